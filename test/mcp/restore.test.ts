/**
 * ADR 0043: an MCP session outlives the process that initialised it. Real MCP SDK clients, real
 * `createHttpServer` instances on one SQLite file (a restart; two replicas on one database), and a
 * plain HTTP proxy in front choosing the upstream per request, as a Service without session
 * affinity does.
 *
 * Before: the first request after a restart, or on the other replica, answered 404 ("not known"),
 * and the SDK client failed (`sessions.test.ts`: it does not initialise again by itself).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { McpSessions } from '../../src/interfaces/http/mcp-sessions.js';
import { InMemoryMcpSessionRecords } from '../../src/sessions/mcp-session-records.js';
import { startProxy } from './proxy.js';
import { startTestServer, type TestServer, testConfiguration, TOKENS, waitUntil } from '../http/support.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function proxy(pick: () => number): Promise<string> {
  const started = await startProxy(pick);
  cleanups.push(started.close);
  return started.base;
}

function sqliteConfiguration(path: string, idleTimeout = '30m') {
  return testConfiguration({
    storage: { driver: 'sqlite', path },
    server: { mcpSessions: { idleTimeout } },
  });
}

async function replica(path: string, idleTimeout?: string): Promise<TestServer> {
  const server = await startTestServer(sqliteConfiguration(path, idleTimeout));
  cleanups.push(() => server.close());
  return server;
}

async function restored(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.base}/metrics`)).text();
  return Number(/^kubemend_mcp_sessions_restored_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

async function connect(base: string, token: string, client: Client): Promise<StreamableHTTPClientTransport> {
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  cleanups.push(() => client.close());
  return transport;
}

async function ping(base: string, token: string, session: string): Promise<number> {
  const response = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': session,
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' }),
  });
  await response.arrayBuffer();
  return response.status;
}

const example = JSON.parse(readFileSync('examples/oom-killed.json', 'utf8')) as Record<string, unknown>;

describe('MCP sessions outlive their process (ADR 0043)', () => {
  it('a session initialised before a restart goes on after it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kubemend-mcp-restore-')), 'kubemend.db');
    const before = await replica(path);
    let upstream = before.port;
    const base = await proxy(() => upstream);
    const client = new Client({ name: 'restart-test', version: '1.0.0' });
    const transport = await connect(base, TOKENS.operator, client);
    const session = transport.sessionId!;
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('remediate');

    // The process stops (a rolling update); another starts on the same database.
    await before.close();
    const after = await replica(path);
    upstream = after.port;

    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('remediate');
    expect(transport.sessionId).toBe(session);
    expect(await restored(after)).toBe(1);
    const result = await client.callTool({ name: 'remediate', arguments: example });
    expect((result.structuredContent as { status: string }).status).toBe('pending');
  });

  it('a restored session’s server knows the client as it initialised (capabilities, version)', async () => {
    const records = new InMemoryMcpSessionRecords();
    const now = new Date().toISOString();
    const initialize = {
      protocolVersion: '2025-06-18',
      capabilities: { elicitation: {} },
      clientInfo: { name: 'claude-code', version: '2.0.1' },
    };
    await records.save({
      id: 'm-restored',
      caller: 'token:operator',
      initialize,
      createdAt: now,
      lastUsedAt: now,
    });
    const sessions = new McpSessions({ idleTimeoutMs: 60_000, perCaller: 4, max: 8 }, { records });
    cleanups.push(() => sessions.closeAll());
    const servers: McpServer[] = [];
    const createServer = () => {
      const server = new McpServer({ name: 'kubemend', version: '0' });
      servers.push(server);
      return server;
    };
    await expect(sessions.use('m-restored', 'token:other', createServer)).rejects.toMatchObject({
      code: 'forbidden',
    });
    const { session, done } = await sessions.use('m-restored', 'token:operator', createServer);
    done();
    expect(session.transport.sessionId).toBe('m-restored');
    expect(servers.at(-1)!.server.getClientCapabilities()).toHaveProperty('elicitation');
    expect(servers.at(-1)!.server.getClientVersion()).toEqual({ name: 'claude-code', version: '2.0.1' });
    // Two requests at once rebuild it once.
    const again = await Promise.all([
      sessions.use('m-restored', 'token:operator', createServer),
      sessions.use('m-restored', 'token:operator', createServer),
    ]);
    expect(again[0].session).toBe(session);
    expect(again[1].session).toBe(session);
    expect(sessions.size).toBe(1);
  });

  it('replicas on one database serve each other’s sessions, for their caller only; DELETE ends one everywhere', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kubemend-mcp-replicas-')), 'kubemend.db');
    // A short idle timeout: a replica checks a session's record every quarter of it (here 500 ms).
    const [a, b] = [await replica(path, '2s'), await replica(path, '2s')];
    let next = 0;
    const base = await proxy(() => [a.port, b.port][next++ % 2]!);
    const client = new Client({ name: 'replicas-test', version: '1.0.0' });
    const transport = await connect(base, TOKENS.analyst, client);
    const session = transport.sessionId!;
    for (let call = 0; call < 4; call++) {
      const analysis = await client.callTool({ name: 'analyze', arguments: example });
      expect((analysis.structuredContent as { analysis: { category: string } }).analysis.category).toBe(
        'oom-killed',
      );
    }
    expect((await restored(a)) + (await restored(b))).toBeGreaterThanOrEqual(1);

    // Another caller cannot take the session over on either replica.
    expect(await ping(a.base, TOKENS.other, session)).toBe(403);
    expect(await ping(b.base, TOKENS.other, session)).toBe(403);
    expect(await ping(a.base, TOKENS.analyst, session)).toBe(200);
    expect(await ping(b.base, TOKENS.analyst, session)).toBe(200);

    // Ended on b: gone there at once, and on a once it next checks the record.
    const ended = await fetch(`${b.base}/mcp`, {
      method: 'DELETE',
      headers: {
        authorization: `Bearer ${TOKENS.analyst}`,
        'mcp-session-id': session,
        'mcp-protocol-version': '2025-06-18',
      },
    });
    expect(ended.status).toBe(200);
    expect(await ping(b.base, TOKENS.analyst, session)).toBe(404);
    await waitUntil(async () => (await ping(a.base, TOKENS.analyst, session)) === 404, 5_000);
  });

  it('a session idle past its timeout is not restored anywhere', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kubemend-mcp-idle-')), 'kubemend.db');
    const a = await replica(path, '2s');
    const b = await replica(path, '2s');
    const opened = await fetch(`${a.base}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKENS.analyst}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
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
    expect(opened.status, await opened.text()).toBe(200);
    const session = opened.headers.get('mcp-session-id')!;
    await new Promise((resolve) => setTimeout(resolve, 2_300));
    expect(await ping(b.base, TOKENS.analyst, session)).toBe(404);
    expect(await restored(b)).toBe(0);
  });
});
