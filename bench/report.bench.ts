/**
 * The report (`kubemend report`, GET /v1/reports/shadow) over 10,000 sessions in SQLite (a script,
 * not a test): a third of them shadow sessions with their recorded before/dry-run objects and
 * outcomes, the rest remediations in every final state, each with a `before` snapshot in its
 * results and a request with log lines. Measures p50/p95/max of the whole report over every
 * session, over the last 7 days, and the rows read per second; fails (exit 1) when the p95 of the
 * whole report is at or over 1 s.
 *
 *   npm run bench:report -- [--sessions 10000] [--runs 20]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfiguration } from '../src/config/configuration.js';
import { loadPolicies } from '../src/config/policies.js';
import { CATEGORIES, type RemediationAction, type ShadowObservation } from '../src/domain/index.js';
import { RemediationService } from '../src/service/remediation-service.js';
import { SqliteSessionStore } from '../src/sessions/sqlite-session-store.js';
import type { SessionState } from '../src/sessions/store.js';
import { memoryPatch } from '../test/support/workloads.js';
import { outputFor } from '../test/ui/support.js';

const { values } = parseArgs({
  options: { sessions: { type: 'string', default: '10000' }, runs: { type: 'string', default: '20' } },
});
const total = Number(values.sessions);
const runs = Number(values.runs);
const TARGET_MS = 1_000;

const STATES: readonly SessionState[] = [
  'verified',
  'verified',
  'verified',
  'rejected',
  'failed',
  'rolled-back',
  'pending',
];
const OUTCOMES = ['matched', 'matched', 'contradicted', 'still-broken', 'resolved-on-its-own'] as const;
const directory = mkdtempSync(join(tmpdir(), 'kubemend-bench-report-'));
const store = new SqliteSessionStore(join(directory, 'kubemend.db'));
const service = new RemediationService({
  configuration: loadConfiguration({ env: {}, flags: { cluster: { offline: true } } as never }),
  policies: loadPolicies(undefined),
  sessions: store,
});

const deployment = (name: string, memory: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name,
    namespace: 'shop',
    uid: `uid-${name}`,
    resourceVersion: '1234',
    generation: 3,
    labels: { app: name },
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        containers: [
          {
            name: 'api',
            image: 'ghcr.io/acme/api:v1.4.0',
            ports: [{ containerPort: 8080 }],
            resources: { limits: { memory }, requests: { memory: '64Mi' } },
          },
        ],
      },
    },
  },
});

process.stderr.write(`seeding ${total} sessions in SQLite … `);
const started = Date.now();
const now = Date.parse('2026-12-01T21:00:00.000Z');
for (let i = 0; i < total; i++) {
  const name = `web-${i % 50}`;
  const shadow = i % 3 === 0;
  const decision = shadow
    ? {
        decision: 'execute' as const,
        reason: 'shadow mode: automatic would execute this (…); only the server-side dry-run runs',
      }
    : {
        decision: 'execute' as const,
        reason: 'automatic mode: medium risk at confidence 0.92 is within policy',
      };
  const actions: RemediationAction[] = [memoryPatch('a1', name, '256Mi', decision)];
  const category = CATEGORIES[i % 10]!;
  const createdAt = new Date(now - (total - i) * 5 * 60_000).toISOString(); // one every 5 minutes
  const state: SessionState = shadow ? (i % 30 === 0 ? 'observing' : 'observed') : STATES[i % STATES.length]!;
  const outcome = OUTCOMES[i % OUTCOMES.length]!;
  const observation: ShadowObservation | undefined = shadow
    ? {
        category,
        startedAt: createdAt,
        windowEndsAt: new Date(Date.parse(createdAt) + 1_800_000).toISOString(),
        actions: [
          {
            actionId: 'a1',
            type: 'patch',
            target: `Deployment/shop/${name}`,
            kind: 'Deployment',
            namespace: 'shop',
            name,
            dryRun: i % 47 === 0 ? 'failed' : 'passed',
            message: 'server-side dry-run passed; nothing was changed (dryRun)',
            before: deployment(name, '128Mi'),
            after: deployment(name, '256Mi'),
            ...(state === 'observed' ? { outcome } : {}),
          },
        ],
        ...(state === 'observed'
          ? { outcome, observedAt: createdAt, detail: 'a1: changed as proposed' }
          : {}),
      }
    : undefined;
  await store.create({
    id: `session-${String(i).padStart(6, '0')}`,
    state,
    phase: 'done',
    createdAt,
    actor: 'token:ci-pipeline',
    input: {
      issue: `${name} keeps restarting after the deploy of build ${i}`,
      target: { kind: 'Deployment', namespace: 'shop', name },
      context: {
        logs: Array.from(
          { length: 40 },
          (_, line) => `request ${i}/${line} failed: java.lang.OutOfMemoryError`,
        ),
      },
    },
    output: { ...outputFor(`session-${i}`, actions, category), status: 'success' },
    approvals:
      !shadow && i % 4 === 0
        ? [{ approver: 'bob', at: createdAt, actionIds: ['a1'], planHash: 'f'.repeat(64) }]
        : [],
    results: [
      {
        actionId: 'a1',
        status: shadow ? 'dry-run' : 'verified',
        message: 'verified',
        startedAt: createdAt,
        finishedAt: createdAt,
        before: deployment(name, '128Mi'),
      },
    ],
    ...(observation ? { shadow: observation } : {}),
  });
}
process.stderr.write(`${((Date.now() - started) / 1000).toFixed(1)} s\n`);

async function measure(label: string, range: { from?: string }) {
  const times: number[] = [];
  let sessions = 0;
  for (let run = 0; run < runs; run++) {
    const begin = performance.now();
    const report = await service.report(range);
    times.push(performance.now() - begin);
    sessions = report.sessions;
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return {
    scenario: label,
    sessions,
    p50: Math.round(at(0.5)),
    p95: Math.round(at(0.95)),
    max: Math.round(times.at(-1)!),
    rowsPerSecond: Math.round(sessions / (at(0.5) / 1000)),
  };
}

const rows = [
  await measure('every session', {}),
  await measure('last 7 days', { from: new Date(now - 7 * 86_400_000).toISOString() }),
];
const sample = await service.report({});
await store.close();
rmSync(directory, { recursive: true, force: true });
console.table(rows);
process.stdout.write(
  `shadow sessions ${sample.shadow.sessions}, agreement ${sample.shadow.agreementRate}, categories ${sample.categories.length}\n`,
);
const slow = rows.find((row) => row.scenario === 'every session' && row.p95 >= TARGET_MS);
if (slow) {
  process.stderr.write(`report p95 ${slow.p95} ms ≥ ${TARGET_MS} ms\n`);
  process.exitCode = 1;
}
