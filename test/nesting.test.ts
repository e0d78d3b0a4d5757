/**
 * Issue 14, defect 5 (deep nesting crashes the request): a document nested deeper than the
 * documented limit (`MAX_JSON_DEPTH`, 64 objects and arrays) is refused where it is parsed, at every
 * edge, naming the field — HTTP 400 `invalid-input`, an MCP `isError` result, CLI exit 2 — and
 * changes nothing. Before: ~1,000 levels gave a 500 leaking "CHECK constraint failed: json_valid"
 * from SQLite, ~5,000 a stack overflow in the canonical-JSON digest, and the CLI exited 1.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localPrincipal } from '../src/auth/authenticator.js';
import { MAX_JSON_DEPTH } from '../src/domain/index.js';
import { readInputStream } from '../src/interfaces/cli/read-input.js';
import { createMcpServer } from '../src/interfaces/mcp/server.js';
import { authorized, startTestServer, type TestServer, testConfiguration, TOKENS } from './http/support.js';

const directory = mkdtempSync(join(tmpdir(), 'kubemend-nesting-'));

/** `{"a":{"a":…{}…}}` with `levels` objects, as text (no recursion anywhere). */
function nested(levels: number): string {
  return '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);
}

/** A RemediateInput with `levels` of nesting below the named field, and where its path starts. */
const PLACES = {
  'context.podSpec': (levels: number) =>
    `{"issue":"deep","context":{"podSpec":{"spec":{"containers":[],"x":${nested(levels)}}}}}`,
  'context.resources': (levels: number) =>
    `{"issue":"deep","context":{"resources":[{"kind":"ConfigMap","data":${nested(levels)}}]}}`,
  'context.event': (levels: number) =>
    `{"issue":"deep","context":{"event":{"reason":"BackOff","involvedObject":${nested(levels)}}}}`,
} as const;
const EXPECTED_PATH = {
  'context.podSpec': /^context\.podSpec\.spec\.x\.a/,
  'context.resources': /^context\.resources\[0\]\.data\.a/,
  'context.event': /^context\.event\.involvedObject\.a/,
} as const;
const DEPTHS = [1_000, 5_000, 100_000] as const;

describe('HTTP: refused at parse time with 400 naming the field (SQLite storage)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(
      testConfiguration({
        storage: { driver: 'sqlite', path: join(directory, 'http.db') },
        server: { bodyLimitBytes: 8 * 1024 * 1024 },
      }),
    );
  });
  afterAll(async () => {
    await server.close();
  });

  for (const [place, build] of Object.entries(PLACES) as Array<[keyof typeof PLACES, (n: number) => string]>)
    it.each(DEPTHS)(`${place} nested %i levels`, async (levels) => {
      const response = await fetch(`${server.base}/v1/remediate`, {
        method: 'POST',
        headers: authorized(TOKENS.analyst),
        body: build(levels),
      });
      const problem = (await response.json()) as {
        code: string;
        detail: string;
        errors: Array<{ path: string }>;
      };
      expect(response.status, problem.detail).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(problem.code).toBe('invalid-input');
      expect(problem.errors[0]!.path).toMatch(EXPECTED_PATH[place]);
      expect(problem.detail).toMatch(new RegExp(`${MAX_JSON_DEPTH}`));
      expect(problem.detail).not.toMatch(/CHECK|json_valid|stack/i);
    });

  it('changed nothing: no session, no audit record', async () => {
    expect(await server.application.sessions.list({})).toHaveLength(0);
    expect(await server.application.audit.list({ limit: 10 })).toHaveLength(0);
  });

  it('accepts a document exactly at the limit', async () => {
    // issue object (1) → context (2) → resources (3) → [0] (4) → data (5) … = MAX_JSON_DEPTH in all.
    const response = await fetch(`${server.base}/v1/remediate`, {
      method: 'POST',
      headers: authorized(TOKENS.analyst),
      body: PLACES['context.resources'](MAX_JSON_DEPTH - 4),
    });
    expect(response.status).toBe(200);
  });

  it('refuses a deep MCP message over HTTP with a problem naming the field', async () => {
    const response = await fetch(`${server.base}/mcp`, {
      method: 'POST',
      headers: authorized(TOKENS.analyst, { accept: 'application/json, text/event-stream' }),
      body: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":${nested(5_000)}}`,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toMatch(
      /^params\.a\.a/,
    );
  });
});

describe('MCP tools: an isError result naming the field', () => {
  let client: Client;
  beforeAll(async () => {
    const { createApplication } = await import('../src/app.js');
    const application = await createApplication(testConfiguration(), { cluster: null });
    const server = createMcpServer({ service: application.service, principal: localPrincipal });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    client = new Client({ name: 'nesting', version: '1.0.0' });
    await client.connect(clientSide);
  });
  afterAll(async () => {
    await client.close();
  });

  it.each(['analyze', 'remediate'])('%s with context.podSpec nested 1,000 levels', async (tool) => {
    const args = JSON.parse(PLACES['context.podSpec'](1_000)) as Record<string, unknown>;
    const result = await client.callTool({ name: tool, arguments: args });
    expect(result.isError).toBe(true);
    const text = (result.content as Array<{ text: string }>)[0]!.text;
    expect(text).toMatch(/context\.podSpec\.spec\.x\.a/);
    expect(text).toMatch(/invalid-input/);
  });
});

describe('CLI: exit 2 naming the field', () => {
  it.each(DEPTHS)(
    'kubemend analyze with context.podSpec nested %i levels',
    (levels) => {
      const path = join(directory, `deep-${levels}.json`);
      writeFileSync(path, PLACES['context.podSpec'](levels));
      const result = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'src/interfaces/cli/main.ts', 'analyze', '--input', path, '--offline', '--json'],
        { encoding: 'utf8', timeout: 60_000, env: { ...process.env, KUBEMEND_POLICY_FILE: '' } },
      );
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/context\.podSpec\.spec\.x\.a/);
      expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'invalid-input' } });
    },
    60_000,
  );

  it('the streaming reader stops at the limit without building the rest', async () => {
    const text = PLACES['context.resources'](1_000_000);
    const started = performance.now();
    await expect(readInputStream(Readable.from([Buffer.from(text)]))).rejects.toMatchObject({
      code: 'invalid-input',
      issues: [{ path: expect.stringMatching(/^context\.resources\[0\]\.data\.a/) }],
    });
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
