/**
 * The HTTP/JSON API with a real HTTP client (fetch) against the same server factory `kubemend
 * serve` uses — offline here (no cluster), so every status that does not need a cluster: auth,
 * validation, problem documents, idempotency, async sessions, audit, OpenAPI, metrics, limits.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseOpenApi, validate as validateOpenApi } from '@readme/openapi-parser';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Application } from '../../src/app.js';
import type { ClusterGateway } from '../../src/cluster/gateway.js';
import { RemediateOutputSchema } from '../../src/domain/index.js';
import { loadIncidents } from '../support/incidents.js';
import { startTestServer, testConfiguration, TOKENS } from './support.js';

// Response bodies are JSON documents of known shape; the assertions check them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const body = async (response: Response): Promise<Json> => (await response.json()) as Json;

const incident = loadIncidents('test/corpus').find((c) => c.file.startsWith('oom-killed/'))!;

let app: Application;
let http: FastifyInstance;
let base: string;

/** The shared test configuration with a 256 KiB body limit; `overrides` replace whole sections. */
function configuration(overrides: Record<string, unknown> = {}) {
  return testConfiguration({ server: { bodyLimitBytes: 256 * 1024 }, ...overrides });
}

async function start(config = configuration(), options: { cluster?: ClusterGateway | null } = {}) {
  const started = await startTestServer(config, options);
  return { application: started.application, server: started.http, base: started.base };
}

function call(path: string, init: RequestInit & { token?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  return fetch(`${base}${path}`, { ...init, headers });
}

beforeAll(async () => {
  ({ application: app, server: http, base } = await start());
});

afterAll(async () => {
  await http.close();
  await app.close();
});

describe('authentication and authorization', () => {
  it('refuses a request without a token with 401 and WWW-Authenticate', async () => {
    const response = await call('/v1/remediate', { method: 'POST', body: JSON.stringify({ issue: 'x' }) });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await body(response)).toMatchObject({
      status: 401,
      code: 'not-authenticated',
      type: expect.stringContaining('not-authenticated'),
    });
  });

  it('refuses a wrong token', async () => {
    const response = await call('/v1/remediate', {
      method: 'POST',
      token: 'nope',
      body: JSON.stringify({ issue: 'x' }),
    });
    expect(response.status).toBe(401);
  });

  it('needs the execute scope to run automatic mode or approve', async () => {
    const automatic = await call('/v1/remediate', {
      method: 'POST',
      token: TOKENS.analyst,
      body: JSON.stringify({ ...incident.input, mode: 'automatic' }),
    });
    expect(automatic.status).toBe(403);
    expect((await body(automatic)).detail).toMatch(/remediate:execute/);
    const approve = await call('/v1/sessions/abc/approve', {
      method: 'POST',
      token: TOKENS.analyst,
      body: JSON.stringify({ approver: 'me' }),
    });
    expect(approve.status).toBe(403);
  });

  it('needs audit:read for the audit log', async () => {
    expect((await call('/v1/audit', { token: TOKENS.analyst })).status).toBe(403);
    expect((await call('/v1/audit', { token: TOKENS.auditor })).status).toBe(200);
  });
});

describe('POST /v1/remediate', () => {
  it('analyses and returns a RemediateOutput', async () => {
    const response = await call('/v1/remediate', {
      method: 'POST',
      token: TOKENS.analyst,
      body: JSON.stringify(incident.input),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    const output = RemediateOutputSchema.parse(await body(response));
    expect(output.analysis.category).toBe('oom-killed');
    expect(output.status).toBe('pending');
  });

  it.each([
    ['not JSON', '{"issue":', /not valid JSON/, 400],
    ['an unknown field', JSON.stringify({ issue: 'x', bogus: 1 }), /bogus/, 400],
    ['an empty issue', JSON.stringify({ issue: '' }), /issue/, 400],
  ])('rejects %s with a problem naming the field', async (_name, requestBody, detail, status) => {
    const response = await call('/v1/remediate', {
      method: 'POST',
      token: TOKENS.analyst,
      body: requestBody,
    });
    expect(response.status).toBe(status);
    const problem = await body(response);
    expect(problem.detail).toMatch(detail);
    expect(problem.code).toBe('invalid-input');
  });

  it('lists each invalid field in errors[]', async () => {
    const response = await call('/v1/remediate', {
      method: 'POST',
      token: TOKENS.analyst,
      body: JSON.stringify({ issue: '', mode: 'yolo', extra: true }),
    });
    const problem = await body(response);
    expect(problem.errors.map((e: { path: string }) => e.path).sort()).toEqual(['extra', 'issue', 'mode']);
  });

  it('answers 413 above the body limit', async () => {
    const response = await call('/v1/remediate', {
      method: 'POST',
      token: TOKENS.analyst,
      body: JSON.stringify({
        issue: 'x',
        context: { logs: Array.from({ length: 5_000 }, () => 'x'.repeat(100)) },
      }),
    });
    expect(response.status).toBe(413);
    expect((await body(response)).code).toBe('input-too-large');
  });

  it('replays the same Idempotency-Key and body without a second analysis, and refuses another body (422)', async () => {
    const key = `key-${Date.now()}`;
    const first = await body(
      await call('/v1/remediate', {
        method: 'POST',
        token: TOKENS.analyst,
        headers: { 'idempotency-key': key },
        body: JSON.stringify(incident.input),
      }),
    );
    const second = await body(
      await call('/v1/remediate', {
        method: 'POST',
        token: TOKENS.analyst,
        headers: { 'idempotency-key': key },
        body: JSON.stringify(incident.input),
      }),
    );
    expect(second.sessionId).toBe(first.sessionId);
    const audit = await body(await call(`/v1/audit?sessionId=${first.sessionId}`, { token: TOKENS.auditor }));
    expect(audit.records.filter((r: { type: string }) => r.type === 'analysis.completed')).toHaveLength(1);
    const other = await call('/v1/remediate', {
      method: 'POST',
      token: TOKENS.analyst,
      headers: { 'idempotency-key': key },
      body: JSON.stringify({ issue: 'something else' }),
    });
    expect(other.status).toBe(422);
    expect((await body(other)).code).toBe('idempotency-mismatch');
  });

  it('answers 409 while a request under the same key is in flight', async () => {
    // A slow cluster keeps the first request in flight.
    const slow = {
      server: 'https://slow.invalid',
      get: () => sleep(800).then(() => undefined),
      list: () => sleep(800).then(() => []),
    } as unknown as ClusterGateway;
    const slowServer = await start(
      configuration({ cluster: { offline: false, gatherTimeoutMs: 4_000, maxApiCalls: 60 } }),
      { cluster: slow },
    );
    try {
      const key = 'in-flight';
      const body = JSON.stringify({
        issue: 'slow',
        target: { kind: 'Deployment', namespace: 'a', name: 'b' },
      });
      const url = (path: string) => `${slowServer.base}${path}`;
      const headers = {
        authorization: `Bearer ${TOKENS.analyst}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      };
      const first = fetch(url('/v1/remediate'), { method: 'POST', headers, body });
      await sleep(200);
      const second = await fetch(url('/v1/remediate'), { method: 'POST', headers, body });
      expect(second.status).toBe(409);
      expect((await first).status).toBe(200);
    } finally {
      await slowServer.server.close();
      await slowServer.application.close();
    }
  });

  it('runs asynchronously with Prefer: respond-async (202 + Location), the session shows its phase', async () => {
    const response = await call('/v1/remediate', {
      method: 'POST',
      token: TOKENS.analyst,
      headers: { prefer: 'respond-async' },
      body: JSON.stringify(incident.input),
    });
    expect(response.status).toBe(202);
    const location = response.headers.get('location')!;
    expect(location).toMatch(/^\/v1\/sessions\/[\w-]+$/);
    let session: { phase: string; state: string; output?: unknown } = await body(response);
    for (let i = 0; i < 50 && session.phase !== 'done'; i++) {
      await sleep(50);
      session = await body(await call(location, { token: TOKENS.analyst }));
    }
    expect(session.phase).toBe('done');
    expect(session.state).toBe('pending');
    expect(RemediateOutputSchema.safeParse(session.output).success).toBe(true);
  });
});

describe('sessions, approvals and audit', () => {
  it('404s an unknown session', async () => {
    const response = await call('/v1/sessions/unknown-session', { token: TOKENS.analyst });
    expect(response.status).toBe(404);
    expect((await body(response)).code).toBe('session-not-found');
  });

  it('cannot execute an approval without a cluster (503), and rejects instead', async () => {
    const output = await body(
      await call('/v1/remediate', {
        method: 'POST',
        token: TOKENS.operator,
        body: JSON.stringify(incident.input),
      }),
    );
    const approve = await call(`/v1/sessions/${output.sessionId}/approve`, {
      method: 'POST',
      token: TOKENS.operator,
      body: JSON.stringify({ approver: 'operator' }),
    });
    expect(approve.status).toBe(503);
    const badBody = await call(`/v1/sessions/${output.sessionId}/approve`, {
      method: 'POST',
      token: TOKENS.operator,
      body: JSON.stringify({ approver: '' }),
    });
    expect(badBody.status).toBe(400);
    const reject = await call(`/v1/sessions/${output.sessionId}/reject`, {
      method: 'POST',
      token: TOKENS.operator,
      body: JSON.stringify({ approver: 'token:operator', reason: 'not now' }),
    });
    expect(reject.status).toBe(200);
    expect((await body(reject)).state).toBe('rejected');
    const again = await call(`/v1/sessions/${output.sessionId}/reject`, {
      method: 'POST',
      token: TOKENS.operator,
      body: JSON.stringify({ approver: 'token:operator' }),
    });
    expect(again.status).toBe(409);
  });

  it('serves the audit log, filters it, and verifies its chain', async () => {
    const all = await body(await call('/v1/audit', { token: TOKENS.auditor }));
    expect(all.records.length).toBeGreaterThan(0);
    expect(all.records.every((r: { hash: string }) => /^[0-9a-f]{64}$/.test(r.hash))).toBe(true);
    const verify = await body(await call('/v1/audit/verify', { token: TOKENS.auditor }));
    expect(verify).toMatchObject({ ok: true });
    expect((await call('/v1/audit?limit=0', { token: TOKENS.auditor })).status).toBe(400);
    expect((await call('/v1/audit?since=yesterday', { token: TOKENS.auditor })).status).toBe(400);
  });
});

describe('operations', () => {
  it('serves liveness, readiness and Prometheus metrics without a token', async () => {
    expect((await call('/livez')).status).toBe(200);
    expect((await call('/healthz')).status).toBe(200);
    expect((await call('/readyz')).status).toBe(200);
    const metrics = await (await call('/metrics')).text();
    expect(metrics).toMatch(/kubemend_http_request_duration_seconds_bucket/);
    expect(metrics).toMatch(/kubemend_remediations_total\{cluster="",category="oom-killed"/);
  });

  it('publishes an OpenAPI 3.1 document that validates', async () => {
    const document = await body(await call('/openapi.json'));
    expect(document.openapi).toBe('3.1.0');
    const result = await validateOpenApi(structuredClone(document));
    expect(result.valid, JSON.stringify(result)).toBe(true);
    const parsed = await parseOpenApi(document);
    expect(Object.keys(parsed.paths ?? {})).toEqual(
      expect.arrayContaining([
        '/v1/remediate',
        '/v1/sessions/{id}',
        '/v1/sessions/{id}/approve',
        '/v1/sessions/{id}/reject',
        '/v1/audit',
        '/v1/audit/verify',
        '/mcp',
      ]),
    );
    // Issue 14 item 10: every /mcp method is documented; 429s carry their headers.
    expect(Object.keys(document.paths['/mcp']).sort()).toEqual(['delete', 'get', 'post']);
    const limited = document.paths['/v1/remediate'].post.responses['429'];
    expect(Object.keys(limited.headers ?? {})).toEqual(
      expect.arrayContaining(['Retry-After', 'RateLimit', 'RateLimit-Policy']),
    );
  });

  it('answers 404 problems for unknown routes', async () => {
    const response = await call('/v2/nothing');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/problem\+json/);
  });

  it('sheds load above maxInFlight with 429 and Retry-After', async () => {
    const slow = {
      server: 'https://slow.invalid',
      get: () => sleep(600).then(() => undefined),
      list: () => sleep(600).then(() => []),
    } as unknown as ClusterGateway;
    const limited = await start(
      configuration({
        server: {
          host: '127.0.0.1',
          port: 0,
          bodyLimitBytes: 256 * 1024,
          allowedOrigins: [],
          maxInFlight: 2,
        },
        cluster: { offline: false, gatherTimeoutMs: 4_000, maxApiCalls: 60 },
      }),
      { cluster: slow },
    );
    try {
      const body = JSON.stringify({
        issue: 'slow',
        target: { kind: 'Deployment', namespace: 'a', name: 'b' },
      });
      const headers = { authorization: `Bearer ${TOKENS.analyst}`, 'content-type': 'application/json' };
      const responses = await Promise.all(
        Array.from({ length: 5 }, () =>
          fetch(`${limited.base}/v1/remediate`, { method: 'POST', headers, body }),
        ),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
      const limitedResponse = responses.find((r) => r.status === 429)!;
      expect(limitedResponse.headers.get('retry-after')).toBe('1');
    } finally {
      await limited.server.close();
      await limited.application.close();
    }
  });

  it('refuses /mcp from a foreign browser origin', async () => {
    const response = await call('/mcp', {
      method: 'POST',
      token: TOKENS.analyst,
      headers: { origin: 'https://evil.example' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
    });
    expect(response.status).toBe(403);
    expect((await body(response)).code).toBe('origin-not-allowed');
  });
});

describe('tamper-evident audit over HTTP (SQLite)', () => {
  it('GET /v1/audit/verify names the row that was altered in the database', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const Database = (await import('better-sqlite3')).default;
    const path = join(mkdtempSync(join(tmpdir(), 'kubemend-tamper-')), 'kubemend.db');
    const sqlite = await start(configuration({ storage: { driver: 'sqlite', path, retention: '30d' } }));
    try {
      const url = (p: string) => `${sqlite.base}${p}`;
      const headers = { authorization: `Bearer ${TOKENS.operator}`, 'content-type': 'application/json' };
      for (let i = 0; i < 3; i++)
        await fetch(url('/v1/remediate'), { method: 'POST', headers, body: JSON.stringify(incident.input) });
      expect(await body(await fetch(url('/v1/audit/verify'), { headers }))).toMatchObject({ ok: true });
      // An attacker with database access rewrites one record (after disabling the append-only triggers).
      const db = new Database(path);
      const triggers = db
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_records'")
        .all() as Array<{ name: string; sql: string }>;
      for (const trigger of triggers) db.exec(`DROP TRIGGER ${trigger.name}`);
      db.exec(`UPDATE audit_records SET actor = 'nobody' WHERE sequence = 4`);
      db.close();
      const verdict = await body(await fetch(url('/v1/audit/verify'), { headers }));
      expect(verdict.ok).toBe(false);
      expect(verdict.firstBroken.sequence).toBe(4);
    } finally {
      await sqlite.server.close();
      await sqlite.application.close();
    }
  });
});
