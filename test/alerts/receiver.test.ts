/**
 * POST /v1/alerts/alertmanager against the server `kubemend serve` builds, offline, on a real
 * SQLite file: validation before anything is stored, 202 with the session, dedup by fingerprint
 * (also under concurrent deliveries), resolution, the scope an executing route needs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, testConfiguration, TOKENS, type TestServer } from '../http/support.js';
import { webhookPayload } from './support.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let server: TestServer;
let dir: string;

function post(body: unknown, token: string = TOKENS.analyst) {
  return fetch(`${server.base}/v1/alerts/alertmanager`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function until<T>(read: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const crashLoop = (fingerprint: string, namespace = 'shop') => ({
  fingerprint,
  labels: {
    alertname: 'KubePodCrashLooping',
    namespace,
    pod: 'web-1',
    container: 'app',
    severity: 'warning',
  },
  annotations: {
    summary: 'Pod is crash looping.',
    description: 'Pod shop/web-1 (app) is in waiting state (reason: "CrashLoopBackOff").',
  },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubemend-alerts-'));
  server = await startTestServer(
    testConfiguration({
      storage: { driver: 'sqlite', path: join(dir, 'kubemend.db'), sqliteWriter: 'inline' },
      alerts: {
        routes: [{ match: { namespace: 'prod' }, mode: 'automatic' }],
        default: { mode: 'manual' },
      },
    }),
  );
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /v1/alerts/alertmanager', () => {
  it('refuses a bad payload naming the field, and records nothing', async () => {
    const before = (await server.application.sessions.list()).length;
    const payload = webhookPayload([crashLoop('aaa1'), { ...crashLoop('aaa2'), fingerprint: 'not hex!' }]);
    const response = await post(payload);
    expect(response.status).toBe(400);
    const problem = (await response.json()) as Json;
    expect(JSON.stringify(problem)).toContain('alerts[1].fingerprint');
    expect((await server.application.sessions.list()).length).toBe(before);
    expect(await server.application.sessions.alerts.find('aaa1', '2026-12-01T20:00:00.000Z')).toBeUndefined();
    expect((await post({ ...webhookPayload([crashLoop('aaa3')]), version: '3' })).status).toBe(400);
  });

  it('refuses a request without a token', async () => {
    const response = await post(webhookPayload([crashLoop('bbb1')]), 'nope');
    expect(response.status).toBe(401);
  });

  it('answers 202 with the session, which is analysed in the background', async () => {
    const response = await post(webhookPayload([crashLoop('ccc1')]));
    expect(response.status).toBe(202);
    const body = (await response.json()) as Json;
    expect(body.alerts).toEqual([
      { fingerprint: 'ccc1', status: 'firing', outcome: 'opened', sessionId: expect.any(String) },
    ]);
    const id = body.alerts[0].sessionId as string;
    const done = await until(async () => {
      const session = await server.application.sessions.get(id);
      return session?.phase === 'done' ? session : undefined;
    });
    expect(done.input.issue).toContain('Alert KubePodCrashLooping: Pod is crash looping.');
    expect(done.input.target).toEqual({ kind: 'Pod', namespace: 'shop', name: 'web-1' });
    expect(done.input.mode).toBe('manual');
  });

  it('keeps one session per firing incident: a repeat adds to it, concurrent deliveries too', async () => {
    const payload = webhookPayload([crashLoop('ddd1')]);
    const answers = await Promise.all(Array.from({ length: 12 }, () => post(payload)));
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(202));
    const bodies = (await Promise.all(answers.map((a) => a.json()))) as Json[];
    const ids = new Set(bodies.map((b) => b.alerts[0].sessionId));
    expect(ids.size).toBe(1);
    expect(bodies.filter((b) => b.alerts[0].outcome === 'opened')).toHaveLength(1);
    const incident = await server.application.sessions.alerts.find('ddd1', '2026-12-01T20:00:00.000Z');
    expect(incident?.notifications).toBe(12);
    const [id] = [...ids] as string[];
    const repeats = (await server.application.audit.list({ sessionId: id })).filter(
      (r) => r.type === 'alert.repeated',
    );
    expect(repeats).toHaveLength(11);
    // The same alert firing again later (a new startsAt) is a new incident.
    const again = (await (
      await post(webhookPayload([{ ...crashLoop('ddd1'), startsAt: '2026-12-01T22:00:00Z' }]))
    ).json()) as Json;
    expect(again.alerts[0].outcome).toBe('opened');
    expect(again.alerts[0].sessionId).not.toBe(id);
  });

  it('counts every alert by what was done with it (kubemend_alerts_total)', async () => {
    const count = async (outcome: string) => {
      const text = await (await fetch(`${server.base}/metrics`)).text();
      return Number(
        new RegExp(`^kubemend_alerts_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0,
      );
    };
    const [opened, repeated] = [await count('opened'), await count('repeated')];
    await post(webhookPayload([crashLoop('fff1')]));
    await post(webhookPayload([crashLoop('fff1'), crashLoop('fff2')]));
    expect(await count('opened')).toBe(opened + 2);
    expect(await count('repeated')).toBe(repeated + 1);
    // And the outbox gauges are there (no sink configured: nothing waits).
    const text = await (await fetch(`${server.base}/metrics`)).text();
    expect(text).toMatch(/^kubemend_notifications_waiting 0$/m);
    expect(text).toMatch(/^kubemend_notification_oldest_waiting_age_seconds 0$/m);
    expect(text).toMatch(/^kubemend_notifications_dead 0$/m);
  });

  it('records a resolution without a fix as on its own, once', async () => {
    const opened = (await (await post(webhookPayload([crashLoop('eee1')]))).json()) as Json;
    const id = opened.alerts[0].sessionId as string;
    const resolved = webhookPayload(
      [{ ...crashLoop('eee1'), status: 'resolved', endsAt: '2026-12-01T20:10:00Z' }],
      'resolved',
    );
    const first = (await (await post(resolved)).json()) as Json;
    expect(first.alerts[0]).toMatchObject({ outcome: 'resolved', resolution: 'on-its-own', sessionId: id });
    const second = (await (await post(resolved)).json()) as Json;
    expect(second.alerts[0].outcome).toBe('already-resolved');
    const view = (await (
      await fetch(`${server.base}/v1/alerts/sessions/${id}`, {
        headers: { authorization: `Bearer ${TOKENS.analyst}` },
      })
    ).json()) as Json;
    expect(view).toMatchObject({
      fingerprint: 'eee1',
      resolution: 'on-its-own',
      resolvedAt: '2026-12-01T20:10:00.000Z',
    });
    const records = await server.application.audit.list({ sessionId: id });
    expect(records.filter((r) => r.type === 'alert.resolved')).toHaveLength(1);
    // A resolved alert kubemend never saw firing changes nothing.
    const unknown = (await (
      await post(webhookPayload([{ ...crashLoop('fff9'), status: 'resolved' }], 'resolved'))
    ).json()) as Json;
    expect(unknown.alerts[0].outcome).toBe('unknown');
  });

  it('needs the execute scope when the route executes, and stores nothing without it', async () => {
    const response = await post(webhookPayload([crashLoop('ggg1', 'prod')]));
    expect(response.status).toBe(403);
    expect(await server.application.sessions.alerts.find('ggg1', '2026-12-01T20:00:00.000Z')).toBeUndefined();
    const allowed = await post(webhookPayload([crashLoop('ggg1', 'prod')]), TOKENS.operator);
    expect(allowed.status).toBe(202);
    const id = ((await allowed.json()) as Json).alerts[0].sessionId as string;
    const done = await until(async () => {
      const session = await server.application.sessions.get(id);
      return session?.phase === 'done' ? session : undefined;
    });
    expect(done.input.mode).toBe('automatic');
  });
});
