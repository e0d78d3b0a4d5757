/**
 * Issue 14, defect 6 (non-RFC 9457 answers): every error the server sends — its own, the router's
 * (unknown route, a path parameter too long, a malformed URL), the body parser's (413, 415, broken
 * JSON, an empty body) and Node's HTTP parser's (a header block too large, a broken request) — is
 * an `application/problem+json` document with a `code` from the error table. Session ids the
 * schema allows (up to 128 characters) work on every session route.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/domain/index.js';
import { loadIncidents } from '../support/incidents.js';
import { authorized, startTestServer, type TestServer, testConfiguration, TOKENS } from './support.js';

const incident = loadIncidents('test/corpus').find((c) => c.file.startsWith('oom-killed/'))!;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(
    testConfiguration({ server: { bodyLimitBytes: 64 * 1024, maxInFlight: 256 } }),
  );
});
afterAll(async () => {
  await server.close();
});

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: { code?: string; status?: number; type?: string; title?: string; detail?: string };
}

async function problemOf(response: Response): Promise<Answer> {
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: JSON.parse(text) as Answer['body'],
  };
}

/** Writes raw bytes on a new connection; resolves with the status line, headers and body. */
function raw(bytes: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const contentType = /\r\ncontent-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '';
      try {
        resolve({ status, contentType, body: JSON.parse(body) as Answer['body'] });
      } catch {
        reject(new Error(`not a JSON body: ${text.slice(0, 300)}`));
      }
    });
    socket.end(bytes);
  });
}

function expectProblem(answer: Answer, status: number): void {
  expect(answer.status).toBe(status);
  expect(answer.contentType).toMatch(/^application\/problem\+json/);
  expect(answer.body.status).toBe(status);
  expect(ERROR_CODES).toContain(answer.body.code);
  expect(answer.body.type).toBe(`https://kubemend.dev/problems/${answer.body.code}`);
  expect(answer.body.title).toBeTruthy();
  expect(answer.body.detail).toBeTruthy();
}

describe('session ids the schema allows work on every session route', () => {
  it.each([101, 120, 128])('an id of %i characters', async (length) => {
    const id = `s${'a'.repeat(length - 1)}`;
    const created = await fetch(`${server.base}/v1/remediate`, {
      method: 'POST',
      headers: authorized(TOKENS.operator),
      body: JSON.stringify({ ...incident.input, sessionId: id }),
    });
    expect(created.status).toBe(200);
    const read = await fetch(`${server.base}/v1/sessions/${id}`, { headers: authorized(TOKENS.operator) });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { id: string }).id).toBe(id);
    // Offline: approval cannot execute (503), but the route is reached — never a 414.
    const approve = await fetch(`${server.base}/v1/sessions/${id}/approve`, {
      method: 'POST',
      headers: authorized(TOKENS.operator),
      body: JSON.stringify({ approver: 'me' }),
    });
    expectProblem(await problemOf(approve), 503);
    const reject = await fetch(`${server.base}/v1/sessions/${id}/reject`, {
      method: 'POST',
      headers: authorized(TOKENS.operator),
      body: JSON.stringify({ approver: 'me' }),
    });
    expect(reject.status).toBe(200);
  });

  it('an id the schema refuses: longer than 128 is a 414 naming the limit, bad characters a 400 naming the id', async () => {
    const long = await fetch(`${server.base}/v1/sessions/${'a'.repeat(129)}`, {
      headers: authorized(TOKENS.operator),
    });
    const tooLong = await problemOf(long);
    expectProblem(tooLong, 414);
    expect(tooLong.body.detail).toMatch(/128/);
    const bad = await fetch(`${server.base}/v1/sessions/-starts-with-a-dash`, {
      headers: authorized(TOKENS.operator),
    });
    const invalid = await problemOf(bad);
    expectProblem(invalid, 400);
    expect(invalid.body.detail).toMatch(/^id: /);
  });
});

describe('every error is a problem document with a code', () => {
  const cases: ReadonlyArray<readonly [string, () => Promise<Answer>, number]> = [
    ['an unknown route', async () => problemOf(await fetch(`${server.base}/v2/nothing`)), 404],
    [
      'an unknown method on a known path',
      async () => problemOf(await fetch(`${server.base}/v1/remediate`, { method: 'PUT' })),
      404,
    ],
    [
      'an unknown route with a token',
      async () =>
        problemOf(await fetch(`${server.base}/v1/nothing`, { headers: authorized(TOKENS.analyst) })),
      404,
    ],
    [
      'a body over the limit',
      async () =>
        problemOf(
          await fetch(`${server.base}/v1/remediate`, {
            method: 'POST',
            headers: authorized(TOKENS.analyst),
            body: JSON.stringify({ issue: 'x', context: { logs: ['y'.repeat(100 * 1024)] } }),
          }),
        ),
      413,
    ],
    [
      'a body that is not JSON (text/plain)',
      async () =>
        problemOf(
          await fetch(`${server.base}/v1/remediate`, {
            method: 'POST',
            headers: authorized(TOKENS.analyst, { 'content-type': 'text/plain' }),
            body: 'help',
          }),
        ),
      415,
    ],
    [
      'a body of another media type',
      async () =>
        problemOf(
          await fetch(`${server.base}/v1/remediate`, {
            method: 'POST',
            headers: authorized(TOKENS.analyst, { 'content-type': 'application/xml' }),
            body: '<issue/>',
          }),
        ),
      415,
    ],
    [
      'broken JSON',
      async () =>
        problemOf(
          await fetch(`${server.base}/v1/remediate`, {
            method: 'POST',
            headers: authorized(TOKENS.analyst),
            body: '{"issue":',
          }),
        ),
      400,
    ],
    [
      'an empty JSON body',
      async () =>
        problemOf(
          await fetch(`${server.base}/v1/remediate`, {
            method: 'POST',
            headers: authorized(TOKENS.analyst),
          }),
        ),
      400,
    ],
    [
      'a JSON body with a prototype-poisoning key',
      async () =>
        problemOf(
          await fetch(`${server.base}/v1/remediate`, {
            method: 'POST',
            headers: authorized(TOKENS.analyst),
            body: '{"issue":"x","__proto__":{"admin":true}}',
          }),
        ),
      400,
    ],
    [
      'a path parameter far too long',
      async () =>
        problemOf(
          await fetch(`${server.base}/v1/sessions/${'b'.repeat(5_000)}`, {
            headers: authorized(TOKENS.analyst),
          }),
        ),
      414,
    ],
    [
      'a malformed percent-encoding in the path',
      async () =>
        problemOf(
          await fetch(`${server.base}/v1/sessions/%E0%A4%A`, { headers: authorized(TOKENS.analyst) }),
        ),
      400,
    ],
    [
      'a bad query parameter',
      async () =>
        problemOf(await fetch(`${server.base}/v1/audit?limit=0`, { headers: authorized(TOKENS.auditor) })),
      400,
    ],
    [
      'a header block too large (Node HTTP parser)',
      () =>
        raw(`GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\nConnection: close\r\n\r\n`),
      431,
    ],
    ['a broken request line (Node HTTP parser)', () => raw('NOT HTTP AT ALL\r\n\r\n'), 400],
  ];

  it.each(cases)('%s', async (_name, send, status) => {
    expectProblem(await send(), status);
  });
});

describe('a refused request stores nothing (found by npm run fuzz, seed 20261201)', () => {
  it.each([
    ['an unknown policy', { policy: 'no-such-policy' }, 'policy-not-found', TOKENS.operator],
    ['automatic mode without the execute scope', { mode: 'automatic' }, 'forbidden', TOKENS.analyst],
  ])('%s: 4xx, no session, no audit record', async (_name, change, code, token) => {
    const before = server.application.audit.list({ limit: 1_000_000 }).then((records) => records.length);
    for (const prefer of [undefined, 'respond-async']) {
      const response = await fetch(`${server.base}/v1/remediate`, {
        method: 'POST',
        headers: authorized(token, prefer ? { prefer } : {}),
        body: JSON.stringify({ ...incident.input, ...change }),
      });
      const answer = await problemOf(response);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.body.code).toBe(code);
    }
    expect((await server.application.audit.list({ limit: 1_000_000 })).length).toBe(await before);
  });
});
