/**
 * Fair rate limits (issue 14): per caller, a token bucket for analyses and one for executions
 * (`server.rateLimits`); beyond it a 429 problem with Retry-After and the RateLimit header fields;
 * one noisy caller cannot starve another. The bounded queue of asynchronous remediations pushes
 * back per caller (429) while another caller still gets in.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterGateway } from '../../src/cluster/gateway.js';
import { loadIncidents } from '../support/incidents.js';
import { authorized, startTestServer, type TestServer, testConfiguration, TOKENS } from './support.js';

const incident = loadIncidents('test/corpus').find((c) => c.file.startsWith('oom-killed/'))!;
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function remediate(token: string, extra: Record<string, string> = {}, body: unknown = incident.input) {
  const started = performance.now();
  const response = await fetch(`${server!.base}/v1/remediate`, {
    method: 'POST',
    headers: authorized(token, extra),
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text, ms: performance.now() - started };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

describe('per-caller token buckets', () => {
  it('a noisy caller empties its own bucket; a quiet caller is never refused', async () => {
    server = await startTestServer(
      testConfiguration({ server: { rateLimits: { analyses: { perMinute: 60, burst: 10 } } } }),
    );
    // The quiet caller alone first (its latency without a flood), from another token's bucket.
    const alone: number[] = [];
    for (let i = 0; i < 8; i++) alone.push((await remediate(TOKENS.operator)).ms);
    // The noisy caller fires 100 analyses as fast as it can, 10 at a time; the quiet one sends one
    // every 100 ms meanwhile.
    const noisy: number[] = [];
    const quiet: Array<{ status: number; ms: number }> = [];
    const floodStarted = performance.now();
    const flood = (async () => {
      for (let wave = 0; wave < 10; wave++) {
        const answers = await Promise.all(Array.from({ length: 10 }, () => remediate(TOKENS.analyst)));
        noisy.push(...answers.map((answer) => answer.status));
      }
    })();
    const trickle = (async () => {
      for (let i = 0; i < 8; i++) {
        quiet.push(await remediate(TOKENS.other));
        await sleep(100);
      }
    })();
    await Promise.all([flood, trickle]);
    const floodSeconds = (performance.now() - floodStarted) / 1000;
    const accepted = noisy.filter((status) => status === 200).length;
    const refused = noisy.filter((status) => status === 429).length;
    console.log(
      `noisy caller: ${accepted} accepted, ${refused} refused (429) of ${noisy.length}; quiet caller: ${quiet.filter((q) => q.status === 200).length}/${quiet.length} accepted, median ${median(quiet.map((q) => q.ms)).toFixed(0)} ms (alone: ${median(alone).toFixed(0)} ms)`,
    );
    expect(quiet.every((answer) => answer.status === 200)).toBe(true);
    expect(accepted).toBeGreaterThanOrEqual(10);
    // The burst, plus what refilled at 1/s while the flood lasted.
    expect(accepted).toBeLessThanOrEqual(10 + Math.ceil(floodSeconds));
    expect(refused).toBe(noisy.length - accepted);
  });

  it('a refusal is a 429 problem with Retry-After and the RateLimit fields; admitted calls carry them too', async () => {
    server = await startTestServer(
      testConfiguration({ server: { rateLimits: { analyses: { perMinute: 6, burst: 2 } } } }),
    );
    const first = await remediate(TOKENS.analyst);
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('"analyses";q=2;w=20');
    expect(first.headers.get('ratelimit')).toMatch(/^"analyses";r=1;t=\d+$/);
    await remediate(TOKENS.analyst);
    const refused = await remediate(TOKENS.analyst);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(5);
    expect(refused.headers.get('ratelimit')).toMatch(/^"analyses";r=0;t=\d+$/);
    const problem = JSON.parse(refused.body) as { code: string; detail: string };
    expect(problem.code).toBe('rate-limited');
    expect(problem.detail).toMatch(
      /token:analyst is over its rate limit for analyses .*server\.rateLimits\.analyses/,
    );
  });

  it('executions have their own bucket: approvals and automatic runs, not analyses', async () => {
    server = await startTestServer(
      testConfiguration({
        server: {
          rateLimits: { analyses: { perMinute: 600, burst: 100 }, executions: { perMinute: 1, burst: 2 } },
        },
      }),
    );
    // Offline, an approval cannot execute (503) — but it was admitted, and took its token.
    const approve = () =>
      fetch(`${server!.base}/v1/sessions/some-session/approve`, {
        method: 'POST',
        headers: authorized(TOKENS.operator),
        body: JSON.stringify({ approver: 'me' }),
      });
    expect((await approve()).status).not.toBe(429);
    expect((await remediate(TOKENS.operator, {}, { ...incident.input, mode: 'automatic' })).status).toBe(200);
    const refusedApproval = await approve();
    expect(refusedApproval.status).toBe(429);
    expect(refusedApproval.headers.get('ratelimit')).toMatch(/^"executions";r=0/);
    expect((await remediate(TOKENS.operator, {}, { ...incident.input, mode: 'automatic' })).status).toBe(429);
    // Analyses are not executions: still admitted.
    expect((await remediate(TOKENS.operator)).status).toBe(200);
  });

  it('MCP tool calls share the caller’s buckets: over the limit, an isError result that says so', async () => {
    server = await startTestServer(
      testConfiguration({ server: { rateLimits: { analyses: { perMinute: 1, burst: 1 } } } }),
    );
    const client = new Client({ name: 'limited', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${server.base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${TOKENS.analyst}` } },
      }),
    );
    try {
      const args = { issue: incident.input.issue, context: incident.input.context };
      expect((await client.callTool({ name: 'analyze', arguments: args })).isError).toBeFalsy();
      const refused = await client.callTool({ name: 'analyze', arguments: args });
      expect(refused.isError).toBe(true);
      expect((refused.content as Array<{ text: string }>)[0]!.text).toMatch(/rate limit.*rate-limited/s);
      // The HTTP API draws on the same bucket.
      expect((await remediate(TOKENS.analyst)).status).toBe(429);
    } finally {
      await client.close();
    }
  });
});

describe('the queue of asynchronous remediations', () => {
  it('pushes back on a caller past its share (429) while another caller still gets in (202)', async () => {
    const slow = {
      server: 'https://slow.invalid',
      get: () => sleep(1_500).then(() => undefined),
      list: () => sleep(1_500).then(() => []),
    } as unknown as ClusterGateway;
    server = await startTestServer(
      testConfiguration({
        cluster: { offline: false },
        server: { asyncQueue: { concurrency: 1, capacity: 10, perCaller: 2 } },
      }),
      { cluster: slow },
    );
    const input = { issue: 'slow', target: { kind: 'Deployment', namespace: 'a', name: 'b' } };
    const async = { prefer: 'respond-async' };
    expect((await remediate(TOKENS.analyst, async, input)).status).toBe(202);
    expect((await remediate(TOKENS.analyst, async, input)).status).toBe(202);
    const pushedBack = await remediate(TOKENS.analyst, async, input);
    expect(pushedBack.status).toBe(429);
    expect(JSON.parse(pushedBack.body)).toMatchObject({ code: 'rate-limited' });
    expect(pushedBack.body).toMatch(/asyncQueue\.perCaller/);
    expect((await remediate(TOKENS.other, async, input)).status).toBe(202);
    // Nothing was stored for the refused request.
    expect(await server.application.sessions.list({})).toHaveLength(3);
  });
});
