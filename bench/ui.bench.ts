/**
 * The sessions list of the approvals page with 10,000 sessions in SQLite (a script, not a test):
 * p50/p95/max server time (fastify's own measure of each response) for the first page, every page
 * of a walk through the whole list by cursor, and first pages under filters (namespace, category,
 * status, combinations, a rare category). Fails (exit 1) when any p95 is at or over 200 ms.
 *
 *   npm run bench:ui -- [--sessions 10000] [--requests 200]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CATEGORIES, type RemediationAction } from '../src/domain/index.js';
import { planHashOf } from '../src/service/remediation-service.js';
import { SqliteSessionStore } from '../src/sessions/sqlite-session-store.js';
import type { SessionState } from '../src/sessions/store.js';
import { memoryPatch } from '../test/support/workloads.js';
import { outputFor, signIn, TOKENS, uiHarness } from '../test/ui/support.js';

const { values } = parseArgs({
  options: { sessions: { type: 'string', default: '10000' }, requests: { type: 'string', default: '200' } },
});
const total = Number(values.sessions);
const requests = Number(values.requests);
const TARGET_MS = 200;

const STATES: readonly SessionState[] = [
  'verified',
  'verified',
  'verified',
  'rejected',
  'failed',
  'rolled-back',
  'analyzed',
];
const directory = mkdtempSync(join(tmpdir(), 'kubemend-bench-ui-'));
const store = new SqliteSessionStore(join(directory, 'kubemend.db'));
const times: number[] = [];
const harness = await uiHarness({ sessions: store, onResponse: (elapsed) => times.push(elapsed) });

process.stderr.write(`seeding ${total} sessions in SQLite … `);
const started = Date.now();
const action = (i: number): RemediationAction =>
  memoryPatch('a1', `web-${i % 50}`, '512Mi', { decision: 'await-approval', reason: 'manual mode' });
for (let i = 0; i < total; i++) {
  const actions = [action(i)];
  // ~3 % pending, the rest settled; 20 namespaces; categories cycle, one of them rare.
  const state: SessionState = i % 33 === 0 ? 'pending' : STATES[i % STATES.length]!;
  const category = i % 1000 === 7 ? 'job-failed' : CATEGORIES[i % 10]!;
  await store.create({
    id: `session-${String(i).padStart(6, '0')}`,
    state,
    phase: 'done',
    createdAt: new Date(Date.parse('2026-10-01T00:00:00.000Z') + i * 60_000).toISOString(),
    actor: 'token:ci-pipeline',
    input: {
      issue: `web-${i % 50} keeps restarting after the deploy of build ${i}`,
      target: { kind: 'Deployment', namespace: `team-${i % 20}`, name: `web-${i % 50}` },
      context: { logs: ['java.lang.OutOfMemoryError: Java heap space', `request ${i} failed`] },
    },
    output: {
      ...outputFor(`session-${i}`, actions, category),
      status: state === 'pending' ? 'pending' : 'success',
    },
    planHash: planHashOf(actions),
    approvals: [],
    results: [],
  });
}
process.stderr.write(`${((Date.now() - started) / 1000).toFixed(1)} s\n`);

const { cookie } = await signIn(harness.app, TOKENS.reader);

interface Row {
  readonly scenario: string;
  readonly samples: number;
  readonly rows: string;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}
const rows: Row[] = [];

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function record(scenario: string, samples: number[], shown: string): void {
  const sorted = [...samples].sort((a, b) => a - b);
  rows.push({
    scenario,
    samples: sorted.length,
    rows: shown,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    max: sorted.at(-1)!,
  });
}

async function get(url: string): Promise<string> {
  const response = await harness.app.inject({ method: 'GET', url, headers: { cookie } });
  if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode}`);
  return response.body;
}

const count = (body: string) => (body.match(/<tr class=/g) ?? []).length;
const nextOf = (body: string) => /rel="next" href="([^"]+)"/.exec(body)?.[1]?.replaceAll('&amp;', '&');

async function repeat(scenario: string, url: string): Promise<void> {
  await get(url); // warm
  times.length = 0;
  let shown = 0;
  for (let i = 0; i < requests; i++) shown = count(await get(url));
  record(scenario, times.slice(), `${shown} shown`);
}

await repeat('first page, no filter (pending first)', '/ui/sessions');
times.length = 0;
let url: string | undefined = '/ui/sessions';
let pages = 0;
let seen = 0;
while (url) {
  const body = await get(url);
  seen += count(body);
  pages++;
  url = nextOf(body);
}
record(`every page by cursor (${pages} pages)`, times.slice(), `${seen} in all`);
await repeat('namespace=team-3', '/ui/sessions?namespace=team-3');
await repeat('category=crash-loop', '/ui/sessions?category=crash-loop');
await repeat('status=verified', '/ui/sessions?status=verified');
await repeat('status=pending', '/ui/sessions?status=pending');
await repeat(
  `namespace=team-3 + category=${CATEGORIES[3]}`,
  `/ui/sessions?namespace=team-3&category=${CATEGORIES[3]}`,
);
await repeat('category=job-failed (rare: 10 sessions)', '/ui/sessions?category=job-failed');

await harness.close();
await store.close();
rmSync(directory, { recursive: true, force: true });

const ms = (value: number) => value.toFixed(1);
console.log(
  `\nSessions list, ${total} sessions in SQLite, server time per response (ms), target p95 < ${TARGET_MS} ms\n`,
);
console.log('| scenario | requests | rows | p50 | p95 | max |');
console.log('|---|---:|---|---:|---:|---:|');
for (const row of rows)
  console.log(
    `| ${row.scenario} | ${row.samples} | ${row.rows} | ${ms(row.p50)} | ${ms(row.p95)} | ${ms(row.max)} |`,
  );
const over = rows.filter((row) => row.p95 >= TARGET_MS);
if (seen !== total) {
  console.error(`the walk by cursor showed ${seen} sessions, not ${total}`);
  process.exitCode = 1;
}
if (over.length > 0) {
  console.error(`p95 at or over ${TARGET_MS} ms: ${over.map((row) => row.scenario).join('; ')}`);
  process.exitCode = 1;
}
