/**
 * Property-based fuzzing of the two network edges, shared by the unit suites (a few thousand cases,
 * a fixed seed) and `npm run fuzz` (100,000 cases). Documents are generated from the contract —
 * the corpus incidents and the schemas' field names — then mutated, truncated, nested deeply,
 * given wrong types, unknown fields and random JSON; requests go to the real fastify app in
 * process (`inject`) and to the MCP server over an in-memory transport. Every case must be
 * answered below 500, every HTTP 4xx as an RFC 9457 problem with a code from the error table,
 * a rejected request must change nothing (no session, no audit record), and the server must
 * still answer afterwards.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { createApplication, type Application } from '../../src/app.js';
import type { InMemoryAuditRecorder } from '../../src/audit/recorder.js';
import { localPrincipal } from '../../src/auth/authenticator.js';
import { ERROR_CODES, MCP_ERROR_CODES } from '../../src/domain/index.js';
import { createHttpServer } from '../../src/interfaces/http/server.js';
import { createMcpServer } from '../../src/interfaces/mcp/server.js';
import { testConfiguration, TOKENS } from '../http/support.js';
import { loadIncidents } from '../support/incidents.js';

const incidents = loadIncidents('test/corpus').map((incident) => incident.input as Record<string, unknown>);
const FIELDS = ['issue', 'context', 'mode', 'policy', 'target', 'sessionId', 'approve', 'dryRun'];
const CONTEXT_FIELDS = ['event', 'logs', 'metrics', 'podSpec', 'relatedEvents', 'resources'];

/** `levels` objects or arrays inside one another, around `inner` (as a value, built iteratively). */
function nest(levels: number, inner: unknown, arrays: boolean): unknown {
  let value = inner;
  for (let i = 0; i < levels; i++) value = arrays ? [value] : { a: value };
  return value;
}

const wrongValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.array(fc.jsonValue(), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 4 }),
  fc.string({ minLength: 10_001, maxLength: 10_050 }),
);

/** A document: valid incidents, mutations of them, and things that are not documents at all. */
export const documentArbitrary: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...incidents) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...incidents), fc.constantFrom(...FIELDS, 'unknownField'), wrongValue)
      .map(([input, key, value]) => ({ ...input, [key]: value })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(...incidents), fc.constantFrom(...CONTEXT_FIELDS, 'bogus'), wrongValue)
      .map(([input, key, value]) => ({
        ...input,
        context: { ...((input.context as Record<string, unknown> | undefined) ?? {}), [key]: value },
      })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...incidents),
        fc.constantFrom('podSpec', 'resources', 'event', 'metrics'),
        fc.integer({ min: 50, max: 2_500 }),
        fc.boolean(),
      )
      .map(([input, key, levels, arrays]) => {
        const deep = nest(levels, { leaf: true }, arrays);
        const context = (input.context as Record<string, unknown> | undefined) ?? {};
        const placed =
          key === 'podSpec'
            ? { spec: { containers: [], deep } }
            : key === 'resources'
              ? [{ kind: 'ConfigMap', data: deep }]
              : key === 'event'
                ? { reason: 'BackOff', involvedObject: deep }
                : { cpu: deep };
        return { ...input, context: { ...context, [key]: placed } };
      }),
  },
  { weight: 2, arbitrary: fc.jsonValue() },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        issue: fc.string({ maxLength: 40 }),
        mode: fc.string({ maxLength: 12 }),
        sessionId: fc.string({ maxLength: 140 }),
      },
      { requiredKeys: [] },
    ),
  },
);

export type Body =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'truncated'; readonly value: unknown; readonly at: number }
  | { readonly kind: 'raw'; readonly text: string };

/** A document nested `levels` deep under a context field, as text (far deeper than a value can be stringified). */
function deepText(key: 'podSpec' | 'resources' | 'event', levels: number, arrays: boolean): string {
  const open = arrays ? '[' : '{"a":';
  const close = arrays ? ']' : '}';
  const deep = `${open.repeat(levels)}1${close.repeat(levels)}`;
  const placed =
    key === 'podSpec'
      ? `{"spec":{"containers":[],"deep":${deep}}}`
      : key === 'resources'
        ? `[{"kind":"ConfigMap","data":${deep}}]`
        : `{"reason":"BackOff","involvedObject":${deep}}`;
  return `{"issue":"deep","context":{"${key}":${placed}}}`;
}

const bodyArbitrary: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom<'podSpec' | 'resources' | 'event'>('podSpec', 'resources', 'event'),
        fc.integer({ min: 60, max: 100_000 }),
        fc.boolean(),
      )
      .map(([key, levels, arrays]) => ({ kind: 'raw' as const, text: deepText(key, levels, arrays) })),
  },
  { weight: 6, arbitrary: documentArbitrary.map((value) => ({ kind: 'json' as const, value })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(documentArbitrary, fc.double({ min: 0, max: 1, noNaN: true }))
      .map(([value, at]) => ({ kind: 'truncated' as const, value, at })),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((text) => ({ kind: 'raw' as const, text })) },
);

function bodyText(body: Body): string {
  if (body.kind === 'raw') return body.text;
  const text = JSON.stringify(body.value) ?? 'null';
  return body.kind === 'truncated' ? text.slice(0, Math.floor(text.length * body.at)) : text;
}

const idArbitrary = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/),
  fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent),
  fc.integer({ min: 100, max: 300 }).map((length) => 'a'.repeat(length)),
);

export interface HttpCase {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly token: string | undefined;
  readonly contentType: string | undefined;
  readonly headers: Record<string, string>;
  readonly body: Body | undefined;
}

export const httpCaseArbitrary: fc.Arbitrary<HttpCase> = fc
  .record({
    route: fc.constantFrom('remediate', 'approve', 'reject', 'session', 'audit', 'mcp', 'unknown'),
    id: idArbitrary,
    token: fc.constantFrom<string | undefined>(
      TOKENS.analyst,
      TOKENS.operator,
      TOKENS.auditor,
      'wrong-token',
      undefined,
    ),
    contentType: fc.constantFrom<string | undefined>(
      'application/json',
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/xml',
      undefined,
    ),
    prefer: fc.constantFrom<string | undefined>(undefined, 'respond-async'),
    key: fc.option(fc.string({ minLength: 1, maxLength: 300 }), { nil: undefined }),
    query: fc.record({
      limit: fc.option(fc.string({ maxLength: 6 })),
      since: fc.option(fc.string({ maxLength: 30 })),
    }),
    body: bodyArbitrary,
    method: fc.constantFrom<HttpCase['method']>('GET', 'POST', 'PUT', 'DELETE'),
  })
  .map(({ route, id, token, contentType, prefer, key, query, body, method }) => {
    const headers: Record<string, string> = {};
    if (prefer) headers.prefer = prefer;
    if (key) headers['idempotency-key'] = key.replace(/[^\x20-\x7e]/g, '_');
    const withBody = (path: string, m: HttpCase['method'] = 'POST'): HttpCase => ({
      method: m,
      path,
      token,
      contentType,
      headers,
      body,
    });
    switch (route) {
      case 'remediate':
        return withBody('/v1/remediate');
      case 'approve':
        return withBody(`/v1/sessions/${id}/approve`);
      case 'reject':
        return withBody(`/v1/sessions/${id}/reject`);
      case 'session':
        return {
          method: 'GET',
          path: `/v1/sessions/${id}`,
          token,
          contentType: undefined,
          headers,
          body: undefined,
        };
      case 'audit': {
        const search = new URLSearchParams();
        if (query.limit !== null) search.set('limit', query.limit);
        if (query.since !== null) search.set('since', query.since);
        return {
          method: 'GET',
          path: `/v1/audit?${search}`,
          token,
          contentType: undefined,
          headers,
          body: undefined,
        };
      }
      case 'mcp':
        return withBody('/mcp');
      default:
        return withBody(`/v1/${id}`, method);
    }
  });

export interface HttpTarget {
  readonly application: Application;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** The real server, offline and in memory, with limits that do not get in the fuzzer's way. */
export async function httpTarget(): Promise<HttpTarget> {
  const configuration = testConfiguration({
    server: {
      bodyLimitBytes: 1024 * 1024,
      maxInFlight: 10_000,
      rateLimits: { analyses: { perMinute: 0 }, executions: { perMinute: 0 } },
      asyncQueue: { capacity: 100_000, perCaller: 100_000 },
      mcpSessions: { perCaller: 100_000, max: 100_000 },
    },
  });
  const application = await createApplication(configuration, { cluster: null });
  const { app } = await createHttpServer({
    service: application.service,
    configuration,
    authenticator: application.authenticator,
  });
  await app.ready();
  return {
    application,
    app,
    async close() {
      await app.close();
      await application.close();
    },
  };
}

/**
 * What a request may change, counted cheaply: the audit records (every session opened records
 * `session.created`, so an unchanged count also means no session was opened).
 */
function stateCount(application: Application): number {
  return (application.audit as InMemoryAuditRecorder).records.length;
}

/** One HTTP case against the target; throws (with what went wrong) when an invariant fails. */
export async function checkHttpCase(target: HttpTarget, testCase: HttpCase): Promise<void> {
  const before = stateCount(target.application);
  const headers: Record<string, string> = { ...testCase.headers };
  if (testCase.token) headers.authorization = `Bearer ${testCase.token}`;
  if (testCase.contentType && testCase.body) headers['content-type'] = testCase.contentType;
  if (testCase.path === '/mcp') headers.accept = 'application/json, text/event-stream';
  const response = await target.app.inject({
    method: testCase.method,
    url: testCase.path,
    headers,
    ...(testCase.body && testCase.method !== 'GET' ? { payload: bodyText(testCase.body) } : {}),
  });
  const where = `${testCase.method} ${testCase.path.slice(0, 80)} → ${response.statusCode}: ${response.body.slice(0, 300)}`;
  // Offline, an approval of an existing session is a 503 by design; none exists under a random id.
  if (response.statusCode >= 500) throw new Error(`5xx: ${where}`);
  const mcpProtocolAnswer =
    testCase.path === '/mcp' &&
    !response.headers['content-type']?.toString().startsWith('application/problem+json');
  if (response.statusCode >= 400 && !mcpProtocolAnswer) {
    if (!String(response.headers['content-type']).startsWith('application/problem+json'))
      throw new Error(`not a problem document: ${where}`);
    const problem = JSON.parse(response.body) as { code?: string; status?: number };
    if (
      !problem.code ||
      !(ERROR_CODES as readonly string[]).includes(problem.code) ||
      problem.status !== response.statusCode
    )
      throw new Error(`problem without a table code: ${where}`);
  }
  if (response.statusCode >= 400 && stateCount(target.application) !== before)
    throw new Error(`a rejected request changed state: ${where}`);
}

export async function checkHttpAlive(target: HttpTarget): Promise<void> {
  const live = await target.app.inject({ method: 'GET', url: '/livez' });
  if (live.statusCode !== 200) throw new Error(`/livez answered ${live.statusCode}`);
}

// --- MCP -------------------------------------------------------------------------------------------

export interface McpCase {
  readonly kind: 'tool' | 'resource';
  readonly name: string;
  readonly arguments: unknown;
}

export const mcpCaseArbitrary: fc.Arbitrary<McpCase> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.constantFrom('analyze', 'remediate', 'scan', 'approve', 'reject', 'no-such-tool'),
        documentArbitrary,
      )
      .map(([name, value]) => ({ kind: 'tool' as const, name, arguments: value })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('approve', 'reject'),
        fc.record({ sessionId: fc.string({ maxLength: 200 }), reason: fc.jsonValue() }, { requiredKeys: [] }),
      )
      .map(([name, value]) => ({ kind: 'tool' as const, name, arguments: value })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(fc.string({ maxLength: 60 }), idArbitrary)
      .map((id) => ({ kind: 'resource' as const, name: `kubemend://sessions/${id}`, arguments: undefined })),
  },
);

export interface McpTarget {
  readonly application: Application;
  readonly client: Client;
  close(): Promise<void>;
}

export async function mcpTarget(): Promise<McpTarget> {
  const application = await createApplication(testConfiguration(), { cluster: null });
  const server = createMcpServer({ service: application.service, principal: localPrincipal });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'fuzz', version: '1.0.0' });
  await client.connect(clientSide);
  return {
    application,
    client,
    async close() {
      await client.close();
      await application.close();
    },
  };
}

/** JSON-RPC codes a refused request may carry: the caller's fault, or an unknown resource. */
const CALLER_RPC_CODES: readonly number[] = [MCP_ERROR_CODES.invalidParams, MCP_ERROR_CODES.resourceNotFound];

export async function checkMcpCase(target: McpTarget, testCase: McpCase): Promise<void> {
  const before = stateCount(target.application);
  let refused = false;
  try {
    if (testCase.kind === 'resource') {
      await target.client.readResource({ uri: testCase.name });
    } else {
      const args =
        testCase.arguments !== null &&
        typeof testCase.arguments === 'object' &&
        !Array.isArray(testCase.arguments)
          ? (testCase.arguments as Record<string, unknown>)
          : { value: testCase.arguments };
      const result = await target.client.callTool({ name: testCase.name, arguments: args });
      if (result.isError) {
        refused = true;
        const meta = (result._meta as Record<string, { code?: string }> | undefined)?.['kubemend.dev/error'];
        // The SDK answers its own schema check and unknown tools itself (no kubemend code).
        if (meta?.code === 'internal')
          throw new Error(`internal error: ${JSON.stringify(result.content).slice(0, 300)}`);
      }
    }
  } catch (error) {
    if (!(error instanceof McpError) || !CALLER_RPC_CODES.includes(error.code)) throw error;
    refused = true;
  }
  if (refused && stateCount(target.application) !== before)
    throw new Error(`a refused MCP call changed state: ${testCase.kind} ${testCase.name}`);
}

export async function checkMcpAlive(target: McpTarget): Promise<void> {
  const { tools } = await target.client.listTools();
  if (tools.length !== 5) throw new Error(`listTools answered ${tools.length} tools`);
}
