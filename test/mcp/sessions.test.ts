/**
 * Issue 14, defect 2 (MCP sessions never expire and are not capped): 12,000 initialize calls held
 * ~420 MB of heap for good. Now a session idle for `server.mcpSessions.idleTimeout` is closed (its
 * client gets 404 and initialises again, as the MCP specification expects), and a caller may hold
 * `perCaller` sessions, everyone together `max`: beyond that, 429 `too-many-sessions` saying which
 * limit and what to do.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  authorized,
  startTestServer,
  type TestServer,
  testConfiguration,
  TOKENS,
  waitUntil,
} from '../http/support.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const MCP_HEADERS = { accept: 'application/json, text/event-stream' };

async function initialize(token: string): Promise<{ status: number; session?: string; body: string }> {
  const response = await fetch(`${server!.base}/mcp`, {
    method: 'POST',
    headers: authorized(token, MCP_HEADERS),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  return {
    status: response.status,
    session: response.headers.get('mcp-session-id') ?? undefined,
    body: await response.text(),
  };
}

async function ping(token: string, session: string): Promise<number> {
  const response = await fetch(`${server!.base}/mcp`, {
    method: 'POST',
    headers: authorized(token, {
      ...MCP_HEADERS,
      'mcp-session-id': session,
      'mcp-protocol-version': '2025-06-18',
    }),
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
  });
  await response.arrayBuffer();
  return response.status;
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server!.base}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
}

describe('MCP sessions are capped', () => {
  it('per caller, and in all; a closed session frees its place', async () => {
    server = await startTestServer(testConfiguration({ server: { mcpSessions: { perCaller: 3, max: 5 } } }));
    const mine = [];
    for (let i = 0; i < 3; i++) {
      const answer = await initialize(TOKENS.analyst);
      expect(answer.status, answer.body).toBe(200);
      mine.push(answer.session!);
    }
    const refused = await initialize(TOKENS.analyst);
    expect(refused.status).toBe(429);
    const problem = JSON.parse(refused.body) as { code: string; detail: string };
    expect(problem.code).toBe('too-many-sessions');
    expect(problem.detail).toMatch(/token:analyst holds 3 MCP sessions.*perCaller/);
    // Another caller is not starved by the first one's sessions…
    expect((await initialize(TOKENS.other)).status).toBe(200);
    expect((await initialize(TOKENS.operator)).status).toBe(200);
    // …until everyone together reaches the global cap.
    const full = await initialize(TOKENS.other);
    expect(full.status).toBe(429);
    expect((JSON.parse(full.body) as { detail: string }).detail).toMatch(/5 MCP sessions are open.*max/);
    // DELETE /mcp ends a session and frees its place.
    const closed = await fetch(`${server.base}/mcp`, {
      method: 'DELETE',
      headers: {
        authorization: `Bearer ${TOKENS.analyst}`,
        'mcp-session-id': mine[0]!,
        'mcp-protocol-version': '2025-06-18',
      },
    });
    expect(closed.status).toBe(200);
    expect((await initialize(TOKENS.analyst)).status).toBe(200);
    expect(await metric('kubemend_mcp_sessions')).toBe(5);
  });

  it('a caller cannot use another caller’s session', async () => {
    server = await startTestServer();
    const { session } = await initialize(TOKENS.analyst);
    expect(await ping(TOKENS.other, session!)).toBe(403);
    expect(await ping(TOKENS.analyst, session!)).toBe(200);
  });
});

describe('MCP sessions expire when idle', () => {
  it('an idle session is closed, its id answers 404, and its place is free again', async () => {
    server = await startTestServer(
      testConfiguration({ server: { mcpSessions: { idleTimeout: '300ms', perCaller: 2 } } }),
    );
    const first = await initialize(TOKENS.analyst);
    const second = await initialize(TOKENS.analyst);
    expect((await initialize(TOKENS.analyst)).status).toBe(429);
    // Used within the timeout: still there.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await ping(TOKENS.analyst, first.session!)).toBe(200);
    // (Polling with pings would keep a session alive: watch the gauge instead.)
    await waitUntil(async () => (await metric('kubemend_mcp_sessions')) === 0, 3_000);
    expect(await ping(TOKENS.analyst, first.session!)).toBe(404);
    expect(await ping(TOKENS.analyst, second.session!)).toBe(404);
    expect((await initialize(TOKENS.analyst)).status).toBe(200);
  });

  it('hundreds of initialize calls hold nothing once idle', async () => {
    server = await startTestServer(
      testConfiguration({ server: { mcpSessions: { idleTimeout: '6s', perCaller: 2_000, max: 2_000 } } }),
    );
    for (let batch = 0; batch < 10; batch++)
      await Promise.all(Array.from({ length: 50 }, () => initialize(TOKENS.analyst)));
    expect(await metric('kubemend_mcp_sessions')).toBe(500);
    await waitUntil(async () => (await metric('kubemend_mcp_sessions')) === 0, 15_000);
  }, 60_000);

  it('an SDK client whose session expired initialises again and goes on', async () => {
    server = await startTestServer(testConfiguration({ server: { mcpSessions: { idleTimeout: '200ms' } } }));
    const client = new Client({ name: 'patient', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${server.base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${TOKENS.analyst}` } },
      }),
    );
    await waitUntil(async () => (await metric('kubemend_mcp_sessions')) === 0, 3_000);
    // The SDK surfaces the 404; a client then connects again (MCP: initialise on 404).
    await expect(client.listTools()).rejects.toThrow(/404|not known/i);
    await client.close();
  });
});
