/**
 * `kubemend serve`: the HTTP/JSON API (contract §4) and MCP over Streamable HTTP at /mcp, on one
 * port, bound to 127.0.0.1 unless configured otherwise. Thin: parse, authenticate, call the
 * service, translate errors into RFC 9457 problem documents.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { InvalidInputError, KubemendError, parseRemediateInput, digest } from '../../domain/index.js';
import { toFieldIssues } from '../../domain/validation.js';
import { type Authenticator, type Principal, requireScope } from '../../auth/authenticator.js';
import type { Configuration, Scope } from '../../config/configuration.js';
import type { RemediationService } from '../../service/remediation-service.js';
import type { SessionRecord } from '../../sessions/store.js';
import { createMcpServer } from '../mcp/server.js';
import { createMetrics, type Metrics } from './metrics.js';
import { registerStateMetrics } from './state-metrics.js';
import { ApproveBodySchema, openApiDocument, RejectBodySchema } from './openapi.js';
import { type Problem, problem, problemHeaders, toProblem } from './problem.js';
import { registerScanRoutes } from './routes/scan.js';

export interface HttpServerOptions {
  readonly service: RemediationService;
  readonly configuration: Configuration;
  readonly authenticator: Authenticator;
  readonly version?: string;
  /** Extra readiness checks (storage, cluster); each throws when not ready. */
  readonly readiness?: ReadonlyArray<{ readonly name: string; readonly check: () => Promise<void> }>;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new InvalidInputError(toFieldIssues(parsed.error.issues));
  return parsed.data;
}

function sessionView(session: SessionRecord): Record<string, unknown> {
  return {
    id: session.id,
    state: session.state,
    phase: session.phase,
    createdAt: session.createdAt,
    updatedAt: session.updatedAt,
    actor: session.actor,
    ...(session.planHash ? { planHash: session.planHash } : {}),
    input: session.input,
    ...(session.output ? { output: session.output } : {}),
    approvals: session.approvals,
    ...(session.rejection ? { rejection: session.rejection } : {}),
    results: session.results,
  };
}

const LOOPBACK_ORIGIN = /^https?:\/\/(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/;

export async function createHttpServer(
  options: HttpServerOptions,
): Promise<{ app: FastifyInstance; metrics: Metrics }> {
  const { service, configuration, authenticator } = options;
  const metrics = createMetrics();
  registerStateMetrics(metrics.registry, { sessions: service.sessionStore, audit: service.auditRecorder });
  const app = Fastify({
    logger: {
      level: configuration.logLevel === 'silent' ? 'silent' : configuration.logLevel,
      stream: process.stderr,
    },
    bodyLimit: configuration.server.bodyLimitBytes,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    },
  });

  // --- cross-cutting: request ids, concurrency limit, metrics, errors ------------------------
  let inFlight = 0;
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (request.url.startsWith('/v1/') || request.url.startsWith('/mcp')) {
      if (inFlight >= configuration.server.maxInFlight) {
        return sendProblem(
          reply,
          problem(
            'rate-limited',
            `more than ${configuration.server.maxInFlight} requests in flight; retry shortly`,
            { instance: request.id },
          ),
        );
      }
      inFlight++;
      (request as FastifyRequest & { counted?: boolean }).counted = true;
    }
    return undefined;
  });
  app.addHook('onResponse', async (request, reply) => {
    if ((request as FastifyRequest & { counted?: boolean }).counted) inFlight--;
    metrics.requests.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, request, reply) => {
    let body = toProblem(error, request.id);
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      body = problem(
        'input-too-large',
        `the request body is larger than ${configuration.server.bodyLimitBytes} bytes`,
        { instance: request.id },
      );
    else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      body = problem('invalid-input', 'send the body as application/json', { instance: request.id });
    else if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
      body = problem('invalid-input', 'the request body is empty: expected a JSON document', {
        instance: request.id,
      });
    else if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY')
      body = problem('invalid-input', `not valid JSON: ${error.message}`, { instance: request.id });
    if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, body);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem('not-found', `no route ${request.method} ${request.url.split('?')[0]}`, {
        instance: request.id,
      }),
    ),
  );

  const authenticate = (scope: Scope) => async (request: FastifyRequest) => {
    const principal = await authenticator.authenticate(request.headers.authorization);
    requireScope(principal, scope);
    request.principal = principal;
  };

  // --- health, metrics, OpenAPI (no authentication) ------------------------------------------
  app.get('/livez', async () => ({ status: 'ok' }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, string> = {};
    let ready = true;
    for (const { name, check } of options.readiness ?? []) {
      try {
        await check();
        checks[name] = 'ok';
      } catch (error) {
        ready = false;
        checks[name] = (error as Error).message;
      }
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  const document = openApiDocument(options.version ?? '0.1.0');
  app.get('/openapi.json', async () => document);

  // --- the API ---------------------------------------------------------------------------------
  app.post('/v1/remediate', { preHandler: authenticate('remediate:analyze') }, async (request, reply) => {
    const parsed = parseRemediateInput(request.body);
    if (!parsed.ok) throw parsed.error;
    const input = parsed.value;
    const principal = request.principal!;
    const canExecute = principal.scopes.has('remediate:execute');
    if ((input.approve || (input.mode && input.mode !== 'manual')) && !canExecute)
      requireScope(principal, 'remediate:execute');
    const keyHeader = request.headers['idempotency-key'];
    const idempotencyKey = typeof keyHeader === 'string' && keyHeader.length > 0 ? keyHeader : undefined;
    if (idempotencyKey && idempotencyKey.length > 256)
      throw new InvalidInputError([{ path: 'Idempotency-Key', message: 'at most 256 characters' }]);
    const requestHash = digest(request.body);
    const options = { actor: principal.name, canExecute, idempotencyKey, requestHash };
    if (/\brespond-async\b/.test(String(request.headers.prefer ?? ''))) {
      const session = await service.start(input, options);
      return reply
        .code(202)
        .header('location', `/v1/sessions/${session.id}`)
        .header('preference-applied', 'respond-async')
        .send(sessionView(session));
    }
    const output = await service.remediate(input, options);
    const cluster = (await service.clusterNameFor(input.cluster)) ?? '';
    metrics.remediations.inc({
      category: output.analysis.category,
      status: output.status,
      source: output.analysis.source,
      cluster,
    });
    for (const result of output.results ?? []) {
      const action = output.remediation.actions.find((a) => a.id === result.actionId);
      metrics.actions.inc({ type: action?.type ?? 'unknown', status: result.status, cluster });
    }
    return output;
  });

  app.get('/v1/sessions/:id', { preHandler: authenticate('remediate:analyze') }, async (request) => {
    const { id } = request.params as { id: string };
    const session = await service.session(id);
    if (!session) throw new KubemendError('session-not-found', `session ${id} not found`);
    return sessionView(session);
  });

  app.post('/v1/sessions/:id/approve', { preHandler: authenticate('remediate:execute') }, async (request) => {
    const { id } = request.params as { id: string };
    const body = parseBody(ApproveBodySchema, request.body);
    const principal = request.principal!;
    const approver =
      body.approver === principal.name
        ? principal.name
        : `${body.approver} (authenticated as ${principal.name})`;
    const output = await service.approve(id, {
      approver,
      actionIds: body.actionIds,
      planHash: body.planHash,
    });
    const cluster = (await service.session(id))?.cluster ?? '';
    for (const result of output.results ?? []) {
      const action = output.remediation.actions.find((a) => a.id === result.actionId);
      metrics.actions.inc({ type: action?.type ?? 'unknown', status: result.status, cluster });
    }
    return output;
  });

  app.post('/v1/sessions/:id/reject', { preHandler: authenticate('remediate:execute') }, async (request) => {
    const { id } = request.params as { id: string };
    const body = parseBody(RejectBodySchema, request.body);
    const principal = request.principal!;
    const approver =
      body.approver === principal.name
        ? principal.name
        : `${body.approver} (authenticated as ${principal.name})`;
    return sessionView(await service.reject(id, { approver, reason: body.reason }));
  });

  registerScanRoutes(app, { service, preHandler: authenticate('remediate:analyze') });

  app.get('/v1/audit', { preHandler: authenticate('audit:read') }, async (request) => {
    const query = request.query as { sessionId?: string; since?: string; limit?: string };
    const limit = query.limit === undefined ? 1_000 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      throw new InvalidInputError([{ path: 'limit', message: 'an integer from 1 to 10000' }]);
    if (query.since !== undefined && Number.isNaN(Date.parse(query.since)))
      throw new InvalidInputError([{ path: 'since', message: 'an ISO 8601 timestamp' }]);
    return {
      records: await service.auditRecorder.list({ sessionId: query.sessionId, since: query.since, limit }),
    };
  });

  app.get('/v1/audit/verify', { preHandler: authenticate('audit:read') }, async () =>
    service.auditRecorder.verify(),
  );

  // --- MCP over Streamable HTTP ---------------------------------------------------------------
  const transports = new Map<string, { transport: StreamableHTTPServerTransport; principal: string }>();
  const mcp = async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    if (origin && !LOOPBACK_ORIGIN.test(origin) && !configuration.server.allowedOrigins.includes(origin)) {
      return sendProblem(
        reply,
        problem('origin-not-allowed', `origin ${origin} is not allowed to call /mcp`, {
          instance: request.id,
        }),
      );
    }
    const principal = await authenticator.authenticate(request.headers.authorization);
    requireScope(principal, 'remediate:analyze');
    const sessionHeader = request.headers['mcp-session-id'];
    const sessionId = typeof sessionHeader === 'string' ? sessionHeader : undefined;
    let entry = sessionId ? transports.get(sessionId) : undefined;
    if (sessionId && !entry)
      return sendProblem(
        reply,
        problem(
          'session-not-found',
          `MCP session ${sessionId} is not known (it may have expired); initialize again`,
          { instance: request.id },
        ),
      );
    if (entry && entry.principal !== principal.name)
      throw new KubemendError('forbidden', 'this MCP session belongs to another caller');
    if (!entry) {
      if (request.method !== 'POST' || !isInitializeRequest(request.body)) {
        throw new InvalidInputError([
          { path: 'Mcp-Session-Id', message: 'missing: send an initialize request first' },
        ]);
      }
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          transports.set(id, { transport, principal: principal.name });
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) transports.delete(transport.sessionId);
      };
      const server = createMcpServer({ service, principal: () => principal });
      await server.connect(transport);
      entry = { transport, principal: principal.name };
    }
    reply.hijack();
    await entry.transport.handleRequest(request.raw, reply.raw, request.body);
    return undefined;
  };
  app.post('/mcp', mcp);
  app.get('/mcp', mcp);
  app.delete('/mcp', mcp);
  app.addHook('onClose', async () => {
    for (const { transport } of transports.values()) await transport.close().catch(() => undefined);
  });

  return { app, metrics };
}

function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).headers(problemHeaders(body)).type('application/problem+json').send(body);
}
