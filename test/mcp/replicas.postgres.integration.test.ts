/**
 * ADR 0043 with real processes: `kubemend serve` replicas on one PostgreSQL database, a real MCP SDK
 * client behind a proxy that sends each request to the next replica (a Service without session
 * affinity), and a rolling update (one replica stopped, a new one started) in the middle of the
 * client's session. Every tool call is answered; the session id never changes.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/authenticator.js';
import { spawnOfflineServe, stopProcess } from '../http/serve-process.js';
import { requirePostgres, uniqueSchema } from '../storage/support.js';
import { startProxy } from './proxy.js';

const TOKEN = 'mcp-replicas-token-0123456789';
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

/** A fresh schema on the test server (`storage.schema`); dropped after the suite. */
async function freshSchema(url: string): Promise<string> {
  const schema = uniqueSchema();
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });
  return schema;
}

interface Replica {
  readonly port: number;
  readonly process: ChildProcess;
}

async function startReplica(config: string, port: number): Promise<Replica> {
  const child = spawnOfflineServe(config, port);
  cleanups.push(() => stopProcess(child));
  for (let attempt = 0; attempt < 300; attempt++) {
    if ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok)
      return { port, process: child };
    if (child.exitCode !== null) throw new Error(`kubemend serve on ${port} exited with ${child.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`kubemend serve on ${port} did not become ready`);
}

async function restored(replica: Replica): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${replica.port}/metrics`)).text();
  return Number(/^kubemend_mcp_sessions_restored_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

const ISSUE = JSON.parse(readFileSync('examples/oom-killed.json', 'utf8')) as Record<string, unknown>;

describe('MCP over several kubemend replicas on PostgreSQL (ADR 0043)', () => {
  it('a client keeps one session across replicas and a rolling update', async () => {
    const url = await requirePostgres();
    const schema = await freshSchema(url);
    const config = join(mkdtempSync(join(tmpdir(), 'kubemend-mcp-replicas-')), 'kubemend.yaml');
    writeFileSync(
      config,
      `storage:\n  driver: postgres\n  url: ${url}\n  schema: ${schema}\nauth:\n  tokens:\n    - name: analyst\n      sha256: ${hashToken(TOKEN)}\n      scopes: [remediate:analyze]\n`,
    );
    const port = 19_100 + Math.floor(Math.random() * 400);
    const replicas = [await startReplica(config, port), await startReplica(config, port + 1)];
    let next = 0;
    const proxy = await startProxy(() => replicas[next++ % replicas.length]!.port);
    cleanups.push(proxy.close);

    const client = new Client({ name: 'replicas-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${proxy.base}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
    });
    await client.connect(transport);
    cleanups.push(() => client.close());
    const session = transport.sessionId;
    expect(session).toBeDefined();

    const analyse = async () => {
      const result = await client.callTool({ name: 'analyze', arguments: ISSUE });
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      return (result.structuredContent as { analysis: { category: string } }).analysis.category;
    };
    for (let call = 0; call < 4; call++) expect(await analyse()).toBe('oom-killed');
    expect((await restored(replicas[0]!)) + (await restored(replicas[1]!))).toBeGreaterThanOrEqual(1);

    // A rolling update: the first replica goes, a new one comes; the client notices nothing.
    await stopProcess(replicas[0]!.process);
    replicas[0] = await startReplica(config, port + 2);
    for (let call = 0; call < 4; call++) expect(await analyse()).toBe('oom-killed');
    expect(await restored(replicas[0])).toBeGreaterThanOrEqual(1);
    expect(transport.sessionId).toBe(session);
  }, 120_000);
});
