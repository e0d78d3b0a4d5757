/**
 * One error vocabulary: every code in `ERROR_CODES`, driven through every edge — the HTTP server's
 * problem documents, MCP tool results and resource reads, the CLI's exit code and JSON error —
 * against the table published in docs/contract.md (the pin: changing a mapping means changing the
 * documented contract too).
 */
import { InMemorySessionStore } from '../src/sessions/in-memory-session-store.js';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Authenticator, hashToken, localPrincipal } from '../src/auth/authenticator.js';
import { KubernetesApiError } from '../src/cluster/errors.js';
import { loadConfiguration } from '../src/config/configuration.js';
import {
  ERROR_CODES,
  ERROR_TABLE,
  type ErrorCode,
  InvalidInputError,
  KubemendError,
} from '../src/domain/index.js';
import { reportFailure } from '../src/interfaces/cli/main.js';
import { createHttpServer } from '../src/interfaces/http/server.js';
import { createMcpServer, ERROR_META_KEY } from '../src/interfaces/mcp/server.js';
import type { RemediationService } from '../src/service/remediation-service.js';

interface Expected {
  readonly http: number;
  readonly retryAfter?: string;
  readonly rpc: number;
  readonly exit: number;
}

/** The documented table (docs/contract.md, between the error-table markers). */
function documentedTable(): Map<string, Expected> {
  const text = readFileSync('docs/contract.md', 'utf8');
  const block = /<!-- error-table:start -->([\s\S]*?)<!-- error-table:end -->/.exec(text)?.[1] ?? '';
  const rows = new Map<string, Expected>();
  for (const line of block.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const code = /^`([a-z-]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!code) continue;
    rows.set(code, {
      http: Number(cells[2]),
      ...(cells[3] ? { retryAfter: cells[3] } : {}),
      rpc: Number(cells[4]),
      exit: Number(cells[5]),
    });
  }
  return rows;
}

const documented = documentedTable();
const expected = (code: ErrorCode): Expected => documented.get(code)!;
/** Each code as the service would throw it (`input-too-large` and `invalid-input` with a field). */
function thrown(code: ErrorCode): KubemendError {
  if (code === 'invalid-input' || code === 'input-too-large')
    return new InvalidInputError([{ path: 'issue', message: `broken for ${code}` }], code);
  return new KubemendError(code, `broken for ${code}`);
}

/** A service whose every call fails with the code named by its argument. */
const failingService = {
  session: async (id: string) => {
    throw thrown(id as ErrorCode);
  },
  remediate: async (input: { issue: string }) => {
    throw thrown(input.issue as ErrorCode);
  },
  cluster: undefined,
  onEvent: () => () => undefined,
  sessionStore: new InMemorySessionStore(),
} as unknown as RemediationService;

describe('the error table', () => {
  it('has one documented row for every code, and the code matches the table', () => {
    expect([...documented.keys()].sort()).toEqual([...ERROR_CODES].sort());
    expect(Object.keys(ERROR_TABLE).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const row: { http: number; retryAfterSeconds?: number; mcp: { rpc: number }; exit: number } =
        ERROR_TABLE[code];
      expect(
        {
          http: row.http,
          ...(row.retryAfterSeconds ? { retryAfter: String(row.retryAfterSeconds) } : {}),
          rpc: row.mcp.rpc,
          exit: row.exit,
        },
        code,
      ).toEqual(expected(code));
    }
  });

  it('keeps the contract: only the documented statuses, exit codes 1 and 2', () => {
    const statuses = new Set(ERROR_CODES.map((code) => expected(code).http));
    expect([...statuses].sort()).toEqual([
      400, 401, 403, 404, 408, 409, 413, 414, 415, 422, 429, 431, 500, 502, 503,
    ]);
    expect(expected('invalid-input')).toMatchObject({ http: 400, exit: 2 });
    expect(expected('input-too-large')).toMatchObject({ http: 413, exit: 2 });
    expect(expected('rate-limited')).toMatchObject({ http: 429, retryAfter: '1' });
    expect(expected('idempotency-mismatch').http).toBe(422);
  });
});

describe('HTTP: every code becomes its RFC 9457 problem document', () => {
  const TOKEN = 'error-table-token-0123456789';
  let http: FastifyInstance;

  beforeAll(async () => {
    const configuration = loadConfiguration({
      env: {},
      flags: {
        logLevel: 'silent',
        storage: { driver: 'memory' },
        cluster: { offline: true },
        auth: {
          tokens: [{ name: 'reader', sha256: hashToken(TOKEN), scopes: ['remediate:analyze'] }],
        },
      } as never,
    });
    ({ app: http } = await createHttpServer({
      service: failingService,
      configuration,
      authenticator: new Authenticator(configuration.auth),
    }));
  });
  afterAll(async () => {
    await http.close();
  });

  it.each(ERROR_CODES)('%s', async (code) => {
    const response = await http.inject({
      method: 'GET',
      url: `/v1/sessions/${code}`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const want = expected(code);
    expect(response.statusCode).toBe(want.http);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['retry-after']).toBe(want.retryAfter);
    if (want.http === 401) expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    const body = response.json();
    expect(body).toMatchObject({
      type: `https://kubemend.dev/problems/${code}`,
      status: want.http,
      code,
      detail: expect.stringContaining(`broken for ${code}`),
      title: expect.any(String),
    });
    if (code === 'invalid-input' || code === 'input-too-large')
      expect(body.errors).toEqual([{ path: 'issue', message: `broken for ${code}` }]);
  });

  it('reports a bug as internal (500) without its message', async () => {
    const service = {
      session: async () => {
        throw new TypeError('secret detail');
      },
      onEvent: () => () => undefined,
      sessionStore: new InMemorySessionStore(),
    } as unknown as RemediationService;
    const configuration = loadConfiguration({
      env: {},
      flags: { logLevel: 'silent', auth: { tokens: [] } } as never,
    });
    const { app } = await createHttpServer({
      service,
      configuration,
      authenticator: { authenticate: async () => localPrincipal() } as unknown as Authenticator,
    });
    const response = await app.inject({ method: 'GET', url: '/v1/sessions/x' });
    await app.close();
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({ code: 'internal' });
    expect(response.body).not.toContain('secret detail');
  });
});

describe('MCP: every code becomes an isError result (tools) or its JSON-RPC error (resources)', () => {
  let client: Client;

  beforeAll(async () => {
    const server = createMcpServer({ service: failingService, principal: localPrincipal });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    client = new Client({ name: 'error-table', version: '1.0.0' });
    await client.connect(clientSide);
  });
  afterAll(async () => {
    await client.close();
  });

  it.each(ERROR_CODES)('%s', async (code) => {
    const result = await client.callTool({ name: 'analyze', arguments: { issue: code } });
    expect(result.isError).toBe(true);
    const text = (result.content as Array<{ text: string }>)[0]!.text;
    expect(text).toContain(`broken for ${code}`);
    expect(text).toContain(`(error code: ${code})`);
    expect(text).toContain(ERROR_TABLE[code].mcp.hint);
    expect(result._meta?.[ERROR_META_KEY]).toMatchObject({ code });

    const read = client.readResource({ uri: `kubemend://sessions/${code}` });
    await expect(read).rejects.toBeInstanceOf(McpError);
    await expect(read).rejects.toMatchObject({ code: expected(code).rpc, data: { code } });
  });
});

describe('CLI: every code becomes its exit code and JSON error document', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each(ERROR_CODES)('%s', (code) => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(reportFailure(thrown(code), true)).toBe(expected(code).exit);
    expect(String(stderr.mock.calls[0]?.[0])).toContain(`broken for ${code}`);
    const document = JSON.parse(String(stdout.mock.calls[0]?.[0]));
    expect(document.error).toMatchObject({ code, message: expect.stringContaining(`broken for ${code}`) });
  });

  it('reports a Kubernetes API refusal and a bug by code', () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(reportFailure(new KubernetesApiError(0, 'connection refused'), false)).toBe(1);
    expect(reportFailure(new Error('boom'), false)).toBe(1);
  });
});
