/**
 * Shared pieces of the storage suites: a controllable clock, realistic sessions and audit entries,
 * temporary directories, and the test PostgreSQL's URL (which must be up: never a silent skip).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import type { AuditEntry } from '../../src/audit/recorder.js';
import type { ExecutionResult, RemediateInput, RemediateOutput } from '../../src/domain/index.js';
import type { NewSession } from '../../src/sessions/store.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const POSTGRES_URL_FILE = join(REPO_ROOT, '.state/postgres/url');

/** A clock that only moves when told to. */
export class ManualClock {
  private time: number;

  constructor(start = '2026-11-01T08:00:00.000Z') {
    this.time = Date.parse(start);
  }

  readonly now = (): Date => new Date(this.time);

  advance(milliseconds: number): void {
    this.time += milliseconds;
  }

  set(iso: string): void {
    this.time = Date.parse(iso);
  }

  iso(): string {
    return new Date(this.time).toISOString();
  }
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export const SAMPLE_INPUT: RemediateInput = {
  issue: 'payments-api pods are in CrashLoopBackOff after the 14:02 deploy',
  mode: 'manual',
  target: { kind: 'Deployment', namespace: 'payments', name: 'payments-api' },
  context: {
    logs: [
      'Error: connect ECONNREFUSED 10.0.3.17:5432',
      'unicode survives: 日本語 ✓ émoji 🚀 and "quotes" \\ backslashes',
      'a NUL escape \u0000 in a log line',
    ],
    event: {
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container api in pod payments-api-7c9f',
    },
  },
};

export const SAMPLE_OUTPUT: RemediateOutput = {
  status: 'pending',
  sessionId: 'placeholder',
  analysis: {
    rootCause: 'The database Service has no ready endpoints',
    confidence: 0.82,
    factors: ['ECONNREFUSED to the database address'],
    category: 'crash-loop',
    evidence: ['Error: connect ECONNREFUSED 10.0.3.17:5432'],
    source: 'rules',
  },
  remediation: {
    summary: 'Roll back to the previous revision',
    actions: [
      {
        id: 'a1',
        type: 'rollback',
        target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'payments', name: 'payments-api' },
        params: { toRevision: 3 },
        description: 'Roll back payments-api to revision 3',
        command: 'kubectl rollout undo deployment/payments-api -n payments --to-revision=3',
        risk: 'medium',
        rationale: 'The failure started with revision 4',
        verification: 'All replicas ready within 120s',
      },
    ],
    risk: 'medium',
  },
};

export const SAMPLE_RESULT: ExecutionResult = {
  actionId: 'a1',
  status: 'verified',
  message: 'rolled back; 3/3 replicas ready',
  startedAt: '2026-11-01T08:01:00.000Z',
  finishedAt: '2026-11-01T08:01:42.000Z',
  before: { spec: { replicas: 3, template: { metadata: { labels: { app: 'payments-api' } } } } },
};

export function newSession(overrides: Partial<NewSession> = {}): NewSession {
  return {
    id: uniqueId('s'),
    state: 'analyzed',
    phase: 'done',
    createdAt: '2026-11-01T08:00:00.000Z',
    actor: 'alice@example.com',
    input: SAMPLE_INPUT,
    approvals: [],
    results: [],
    ...overrides,
  };
}

/** A session as it stands after analysis, approval bound to the plan hash. */
export function approvedSession(overrides: Partial<NewSession> = {}): NewSession {
  return newSession({
    state: 'approved',
    output: SAMPLE_OUTPUT,
    planHash: 'f'.repeat(64),
    approvals: [
      {
        approver: 'bob@example.com',
        at: '2026-11-01T08:00:30.000Z',
        actionIds: ['a1'],
        planHash: 'f'.repeat(64),
      },
    ],
    ...overrides,
  });
}

export function auditEntry(index: number, sessionId = 'session-a'): AuditEntry {
  return {
    type: index % 3 === 0 ? 'action.applied' : index % 3 === 1 ? 'session.created' : 'action.approved',
    actor: index % 2 === 0 ? 'kubemend' : 'bob@example.com',
    sessionId,
    actionId: `a${index}`,
    target: 'apps/v1/Deployment/payments/payments-api',
    before: 'b'.repeat(64),
    after: 'a'.repeat(64),
    detail: { index, note: `entry ${index}`, nested: { list: [1, 'two', null, { three: 3 }], ok: true } },
  };
}

export function temporaryDirectory(prefix = 'kubemend-storage-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * The URL of the test PostgreSQL (KUBEMEND_TEST_POSTGRES_URL, else .state/postgres/url), checked by
 * connecting. Throws — failing the suite — with what to run when it is not up.
 */
export async function requirePostgres(): Promise<string> {
  const fromEnvironment = process.env['KUBEMEND_TEST_POSTGRES_URL'];
  let url: string;
  if (fromEnvironment !== undefined && fromEnvironment !== '') url = fromEnvironment;
  else if (existsSync(POSTGRES_URL_FILE)) url = readFileSync(POSTGRES_URL_FILE, 'utf8').trim();
  else {
    throw new Error(
      `PostgreSQL is not up: ${POSTGRES_URL_FILE} does not exist. Start it with scripts/postgres/up.sh ` +
        '(or run the suite as scripts/postgres/with-postgres.sh npx vitest run --project integration test/storage).',
    );
  }
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not up: cannot connect with the URL in ${POSTGRES_URL_FILE} ` +
        `(${error instanceof Error ? error.message : String(error)}). Start it with scripts/postgres/up.sh.`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  return url;
}

/** A fresh schema name per test, so tests never see each other's rows. */
export function uniqueSchema(): string {
  return `kmtest_${randomBytes(6).toString('hex')}`;
}
