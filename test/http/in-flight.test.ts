/**
 * Issue 14, defect 1 (permanent lockout): every request that takes a `server.maxInFlight` slot
 * gives it back — when the answer is sent, and when the client goes away first (an upload cut off
 * mid-body, an MCP client closing its `GET /mcp` event stream). Real sockets, real MCP clients.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadIncidents } from '../support/incidents.js';
import {
  abortedUpload,
  authorized,
  startTestServer,
  type TestServer,
  testConfiguration,
  TOKENS,
} from './support.js';

const incident = loadIncidents('test/corpus').find((c) => c.file.startsWith('oom-killed/'))!;
const MAX_IN_FLIGHT = 4;

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function analyse(base: string): Promise<number> {
  const response = await fetch(`${base}/v1/remediate`, {
    method: 'POST',
    headers: authorized(TOKENS.analyst),
    body: JSON.stringify(incident.input),
  });
  await response.arrayBuffer();
  return response.status;
}

const limited = () => testConfiguration({ server: { maxInFlight: MAX_IN_FLIGHT } });

describe('in-flight slots are given back', () => {
  it('after uploads the client aborts mid-body (3 × maxInFlight of them)', async () => {
    server = await startTestServer(limited());
    for (let i = 0; i < 3 * MAX_IN_FLIGHT; i++)
      await abortedUpload(server.port, '/v1/remediate', authorized(TOKENS.analyst), 100_000, 2_000);
    // A normal call still gets through, several times over.
    for (let i = 0; i < MAX_IN_FLIGHT + 1; i++) expect(await analyse(server.base)).toBe(200);
  });

  it('after MCP clients open and close their GET /mcp event stream (3 × maxInFlight of them)', async () => {
    server = await startTestServer(limited());
    const url = new URL(`${server.base}/mcp`);
    for (let i = 0; i < 3 * MAX_IN_FLIGHT; i++) {
      const client = new Client({ name: `client-${i}`, version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(url, {
        requestInit: { headers: { authorization: `Bearer ${TOKENS.analyst}` } },
      });
      await client.connect(transport);
      // The SDK client opens the standalone GET stream after initialisation; give it a moment.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await client.close();
    }
    for (let i = 0; i < MAX_IN_FLIGHT + 1; i++) expect(await analyse(server.base)).toBe(200);
    const client = new Client({ name: 'after', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(url, {
        requestInit: { headers: { authorization: `Bearer ${TOKENS.analyst}` } },
      }),
    );
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    await client.close();
  });

  it('after GET /mcp streams closed by raw clients, open streams do not hold API slots', async () => {
    server = await startTestServer(limited());
    const initialize = await fetch(`${server.base}/mcp`, {
      method: 'POST',
      headers: authorized(TOKENS.analyst, { accept: 'application/json, text/event-stream' }),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    });
    await initialize.arrayBuffer();
    const session = initialize.headers.get('mcp-session-id')!;
    expect(session).toBeTruthy();
    for (let i = 0; i < 3 * MAX_IN_FLIGHT; i++) {
      const controller = new AbortController();
      const stream = await fetch(`${server.base}/mcp`, {
        headers: authorized(TOKENS.analyst, {
          accept: 'text/event-stream',
          'mcp-session-id': session,
          'mcp-protocol-version': '2025-06-18',
        }),
        signal: controller.signal,
      });
      expect(stream.status).toBe(200);
      controller.abort();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await analyse(server.base)).toBe(200);
  });

  it('still sheds load while the slots are really busy, and frees them after', async () => {
    server = await startTestServer(limited());
    // maxInFlight uploads that stall (headers sent, body pending) hold every slot…
    const { request } = await import('node:http');
    const stalled = Array.from({ length: MAX_IN_FLIGHT }, () => {
      const call = request({
        host: '127.0.0.1',
        port: server!.port,
        path: '/v1/remediate',
        method: 'POST',
        headers: { ...authorized(TOKENS.analyst), 'content-length': '1000' },
      });
      call.on('error', () => undefined);
      call.write('{');
      return call;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = await fetch(`${server.base}/v1/remediate`, {
      method: 'POST',
      headers: authorized(TOKENS.analyst),
      body: JSON.stringify(incident.input),
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // …and give them back when those clients give up.
    for (const call of stalled) call.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await analyse(server.base)).toBe(200);
  });
});
