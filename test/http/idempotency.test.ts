/**
 * Issue 14, item 10: Idempotency-Keys are scoped per caller. Before, they were global: a caller
 * who reused (or guessed) another caller's key got that caller's stored output back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIncidents } from '../support/incidents.js';
import { authorized, startTestServer, type TestServer, TOKENS } from './support.js';

const incident = loadIncidents('test/corpus').find((c) => c.file.startsWith('oom-killed/'))!;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

async function remediate(token: string, key: string, body: unknown) {
  const response = await fetch(`${server.base}/v1/remediate`, {
    method: 'POST',
    headers: authorized(token, { 'idempotency-key': key }),
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { sessionId?: string; code?: string } };
}

describe('Idempotency-Key per caller', () => {
  it("another caller's key is not a replay: it gets its own session, never the first caller's output", async () => {
    const first = await remediate(TOKENS.analyst, 'shared-key', incident.input);
    expect(first.status).toBe(200);
    const other = await remediate(TOKENS.other, 'shared-key', incident.input);
    expect(other.status).toBe(200);
    expect(other.body.sessionId).not.toBe(first.body.sessionId);
    // A different body under the same key is no mismatch for the other caller either.
    const different = await remediate(TOKENS.operator, 'shared-key', { issue: 'something else' });
    expect(different.status).toBe(200);
  });

  it('the same caller still replays its own key, and a different body is still a 422', async () => {
    const first = await remediate(TOKENS.analyst, 'own-key', incident.input);
    const again = await remediate(TOKENS.analyst, 'own-key', incident.input);
    expect(again.body.sessionId).toBe(first.body.sessionId);
    const mismatch = await remediate(TOKENS.analyst, 'own-key', { issue: 'another body' });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.code).toBe('idempotency-mismatch');
  });

  it('also for asynchronous starts', async () => {
    const start = (token: string) =>
      fetch(`${server.base}/v1/remediate`, {
        method: 'POST',
        headers: authorized(token, { 'idempotency-key': 'async-key', prefer: 'respond-async' }),
        body: JSON.stringify(incident.input),
      }).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as { id: string },
      }));
    const mine = await start(TOKENS.analyst);
    const theirs = await start(TOKENS.other);
    expect(mine.status).toBe(202);
    expect(theirs.status).toBe(202);
    expect(theirs.body.id).not.toBe(mine.body.id);
  });
});
