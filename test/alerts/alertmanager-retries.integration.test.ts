/**
 * A real Alertmanager in front of kubemend (offline, in process — no control plane needed):
 * Alertmanager groups two alerts into one delivery, and when kubemend's answer is a 503 (here a
 * loopback proxy refuses the first deliveries, as kubemend does when its queue is full) Alertmanager
 * retries until it gets the 202. Every alert ends in exactly one session, however many deliveries
 * it took; a later repeat of the group is counted, not opened again.
 */
import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../cluster/cluster-harness.js';
import { startTestServer, testConfiguration, TOKENS, type TestServer } from '../http/support.js';
import { type Alertmanager, startAlertmanager } from './alertmanager.js';

let kubemend: TestServer;
let proxy: Server;
let alertmanager: Alertmanager;
const answers: number[] = [];
let refuse = 2;

beforeAll(async () => {
  kubemend = await startTestServer(testConfiguration());
  // Refuses the first `refuse` deliveries with 503 + Retry-After, then forwards to kubemend.
  proxy = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      if (refuse > 0) {
        refuse--;
        answers.push(503);
        outgoing.writeHead(503, { 'retry-after': '1' }).end();
        return;
      }
      const headers = { ...incoming.headers };
      delete headers.host;
      const forward = request(`${kubemend.base}${incoming.url}`, { method: 'POST', headers }, (response) => {
        answers.push(response.statusCode ?? 0);
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      });
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as { port: number }).port;
  alertmanager = await startAlertmanager({
    webhookUrl: `http://127.0.0.1:${port}/v1/alerts/alertmanager`,
    token: TOKENS.analyst,
    groupWait: '1s',
    groupInterval: '3s',
  });
}, 120_000);

afterAll(async () => {
  await alertmanager?.stop();
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
  await kubemend?.close();
});

describe('through a real Alertmanager: grouping and retries', () => {
  it('delivers a group of two alerts after two refusals: one session each', async () => {
    const startsAt = new Date().toISOString();
    const alert = (pod: string) => ({
      labels: { alertname: 'KubePodCrashLooping', namespace: 'shop', pod, severity: 'warning' },
      annotations: { summary: 'Pod is crash looping.' },
      startsAt,
    });
    await alertmanager.post([alert('web-1'), alert('web-2')]);
    const incidents = await waitFor(
      'both alerts to be recorded',
      async () => {
        const sessions = await kubemend.application.sessions.list();
        // The sessions commit before the 202 reaches the proxy: wait for both.
        return sessions.length === 2 && answers.includes(202) ? sessions : undefined;
      },
      60_000,
      200,
    );
    expect(answers.slice(0, 3)).toEqual([503, 503, 202]);
    expect(incidents.map((s) => s.input.target?.name).sort()).toEqual(['web-1', 'web-2']);
    // The delivery that got through carried both alerts (one group: alertname + namespace).
    const opened = await Promise.all(
      incidents.map((s) => kubemend.application.sessions.alerts.ofSession(s.id)),
    );
    expect(opened.every((i) => i?.alertname === 'KubePodCrashLooping')).toBe(true);

    // Posting the same alerts again (Prometheus re-sends firing alerts) changes the group's
    // content not at all; a third alert makes Alertmanager send the group again at the next
    // group_interval: the two known alerts count as repeats, the new one opens a session.
    await alertmanager.post([alert('web-1'), alert('web-2'), alert('web-3')]);
    await waitFor(
      'the third alert',
      async () => ((await kubemend.application.sessions.list()).length === 3 ? true : undefined),
      60_000,
      200,
    );
    const sessions = await kubemend.application.sessions.list();
    expect(sessions).toHaveLength(3);
    const web1 = sessions.find((s) => s.input.target?.name === 'web-1')!;
    const incident = await kubemend.application.sessions.alerts.ofSession(web1.id);
    expect(incident?.notifications).toBeGreaterThanOrEqual(2);
  });
});
