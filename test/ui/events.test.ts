/**
 * Live updates (server-sent events) on a real listener: a stream follows an executing session and
 * ends when it settles; a stream the client aborts releases everything at once (no stream left
 * behind); the number of streams is bounded; closing the server ends the streams it holds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryPatch } from '../support/workloads.js';
import { pendingSession, signIn, TOKENS, uiConfiguration, uiHarness, type UiHarness } from './support.js';

let harness: UiHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function listening(maxEventStreams = 64) {
  harness = await uiHarness({ configuration: uiConfiguration({ ui: { maxEventStreams } }) });
  await harness.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(harness.app.server.address() as { port: number }).port}`;
  const { cookie } = await signIn(harness.app, TOKENS.operator);
  await pendingSession(harness.sessions, 's1', [memoryPatch('a1', 'web')], {
    state: 'executing',
    phase: 'executing',
  });
  return { ...harness, base, cookie };
}

async function readEvents(response: Response, until: (text: string) => boolean): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += decoder.decode(value);
    if (until(text)) {
      await reader.cancel();
      return text;
    }
  }
}

describe('GET /ui/sessions/:id/events', () => {
  it('sends the session as it changes and ends when it settles', async () => {
    const { base, cookie, sessions } = await listening();
    const response = await fetch(`${base}/ui/sessions/s1/events`, { headers: { cookie } });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reading = readEvents(response, (text) => text.includes('event: end'));
    await sleep(60);
    const current = (await sessions.get('s1'))!;
    await sessions.update('s1', current.version, { state: 'verified', phase: 'done' });
    const text = await reading;
    expect(text).toContain('event: session');
    expect(text).toContain('"state":"executing"');
    expect(text).toContain('"state":"verified"');
    expect(text).toMatch(/event: end\ndata: \{"reason":"verified"\}/);
  });

  it('releases an aborted stream at once, bounds how many are open, and needs a sign-in', async () => {
    const h = await listening(2);
    const controllers = [new AbortController(), new AbortController()];
    const streams = await Promise.all(
      controllers.map((c) =>
        fetch(`${h.base}/ui/sessions/s1/events`, { headers: { cookie: h.cookie }, signal: c.signal }),
      ),
    );
    expect(streams.map((s) => s.status)).toEqual([200, 200]);
    const third = await fetch(`${h.base}/ui/sessions/s1/events`, { headers: { cookie: h.cookie } });
    expect(third.status).toBe(429);
    await third.text();
    expect(h.streams.size).toBe(2);
    for (const c of controllers) c.abort();
    for (let i = 0; i < 200 && h.streams.size > 0; i++) await sleep(5);
    expect(h.streams.size).toBe(0);
    const again = new AbortController();
    const reopened = await fetch(`${h.base}/ui/sessions/s1/events`, {
      headers: { cookie: h.cookie },
      signal: again.signal,
    });
    expect(reopened.status).toBe(200);
    again.abort();
    for (let i = 0; i < 200 && h.streams.size > 0; i++) await sleep(5);
    expect(h.streams.size).toBe(0);
    const anonymous = await fetch(`${h.base}/ui/sessions/s1/events`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
  });

  it('ends open streams when the server closes', async () => {
    const h = await listening();
    const response = await fetch(`${h.base}/ui/sessions/s1/events`, { headers: { cookie: h.cookie } });
    const reading = readEvents(response, () => false);
    await sleep(50);
    const closed = h.app.close();
    await expect(Promise.race([closed.then(() => 'closed'), sleep(3_000).then(() => 'hung')])).resolves.toBe(
      'closed',
    );
    await reading.catch(() => undefined);
    expect(h.streams.size).toBe(0);
    harness = undefined;
  });
});
