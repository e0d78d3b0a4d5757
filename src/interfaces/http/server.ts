/**
 * `kubemend serve`: the HTTP/JSON API (contract §4) and MCP over Streamable HTTP at /mcp, on one
 * port, bound to 127.0.0.1 unless configured otherwise. Thin: parse, authenticate, call the
 * service, translate errors into RFC 9457 problem documents.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { z } from 'zod';
import {
  executesUnattended,
  digest,
  InvalidInputError,
  KubemendError,
  parseRemediateInput,
  SESSION_ID_MAX_LENGTH,
  SessionIdSchema,
} from '../../domain/index.js';
import { toFieldIssues } from '../../domain/validation.js';
import { type Authenticator, requireScope } from '../../auth/authenticator.js';
import type { Configuration } from '../../config/configuration.js';
import { durationMs } from '../../config/server.js';
import type { RemediationService, StopReport } from '../../service/remediation-service.js';
import type { SessionRecord } from '../../sessions/store.js';
import { registerUi } from '../ui/plugin.js';
import { countEvent, createMetrics, type Metrics } from './metrics.js';
import { reportRange } from '../../reports/range.js';
import { registerStateMetrics } from './state-metrics.js';
import { ApproveBodySchema, openApiDocument, RejectBodySchema } from './openapi.js';
import { installJsonBodyParser } from './body.js';
import { authenticateHook, principalOf } from './authentication.js';
import { clientErrorHandler, frameworkErrors, installErrorHandlers } from './errors.js';
import { InFlightLimit } from './in-flight.js';
import { registerMcpRoutes } from './mcp-route.js';
import { McpSessions } from './mcp-sessions.js';
import { sendProblem } from './problem.js';
import { Shutdown } from './shutdown.js';
import { admit } from './rate-limit.js';
import { CallerRateLimits, workOf } from '../rate-limit.js';
import { registerScanRoutes } from './routes/scan.js';
import { registerAlertRoutes } from './routes/alerts.js';

export interface HttpServerOptions {
  readonly service: RemediationService;
  readonly configuration: Configuration;
  readonly authenticator: Authenticator;
  readonly version?: string;
  /**
   * Extra readiness checks (storage, cluster); each throws when not ready. An `informational`
   * check is reported in /readyz but does not make kubemend unready (the audit chain).
   */
  readonly readiness?: ReadonlyArray<{
    readonly name: string;
    readonly check: () => Promise<void>;
    readonly informational?: boolean;
  }>;
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new InvalidInputError(toFieldIssues(parsed.error.issues));
  return parsed.data;
}

/** The `:id` of a session route, checked against the contract's session id. */
function sessionIdOf(request: FastifyRequest): string {
  const { id } = request.params as { id: string };
  const parsed = SessionIdSchema.safeParse(id);
  if (!parsed.success)
    throw new InvalidInputError(
      toFieldIssues(parsed.error.issues).map((issue) => ({ ...issue, path: 'id' })),
    );
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

export interface HttpServer {
  readonly app: FastifyInstance;
  readonly metrics: Metrics;
  /** The graceful stop (SIGTERM): see shutdown.ts. Resolves when the server is closed. */
  stop(): Promise<StopReport>;
}

export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { service, configuration, authenticator } = options;
  const metrics = createMetrics();
  // Outcome metrics count what the service reports, whichever path ran the work.
  const unsubscribe = service.onEvent((event) => countEvent(metrics, event));
  registerStateMetrics(metrics.registry, {
    sessions: service.sessionStore,
    chain: { status: () => service.auditChainStatus(), check: () => service.verifyAuditChain() },
  });
  const bodyLimitBytes = configuration.server.bodyLimitBytes;
  const app = Fastify({
    logger: {
      level: configuration.logLevel === 'silent' ? 'silent' : configuration.logLevel,
      stream: process.stderr,
    },
    bodyLimit: bodyLimitBytes,
    // The router's limit is the schema's: every session id the contract allows reaches its route.
    routerOptions: { maxParamLength: SESSION_ID_MAX_LENGTH },
    // A whole request must arrive in time: a stalled upload cannot hold a slot for ever.
    requestTimeout: durationMs(configuration.server.requestTimeout),
    // Drain answers (503) come from the shutdown hook, as problem documents.
    return503OnClosing: false,
    frameworkErrors: frameworkErrors(bodyLimitBytes),
    clientErrorHandler,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    },
  });
  app.addHook('onClose', async () => {
    unsubscribe();
  });
  installJsonBodyParser(app, bodyLimitBytes);
  installErrorHandlers(app, bodyLimitBytes);

  // --- cross-cutting: request ids, concurrency limit, metrics ---------------------------------
  const inFlight = new InFlightLimit(configuration.server.maxInFlight);
  inFlight.register(metrics.registry);
  const shutdown = new Shutdown(app, {
    service,
    timeoutMs: durationMs(configuration.server.shutdownTimeout),
    delayMs: durationMs(configuration.server.shutdownDelay),
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const refused = await shutdown.hook(request, reply);
    if (refused) return refused;
    if (InFlightLimit.counts(request) && !inFlight.admit(reply))
      return sendProblem(reply, inFlight.refusal(request.id));
    return undefined;
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.requests.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  // Per-caller token buckets (analyses, executions), shared by the API and the MCP tools.
  const rateLimits = new CallerRateLimits(configuration.server.rateLimits);

  const authenticate = (scope: Parameters<typeof authenticateHook>[1]) => ({
    onRequest: authenticateHook(authenticator, scope),
  });

  // --- health, metrics, OpenAPI (no authentication) ------------------------------------------
  app.get('/livez', async () => ({ status: 'ok' }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, string> = {};
    let ready = true;
    const readiness: ReadonlyArray<{ name: string; check: () => Promise<void>; informational?: boolean }> = [
      { name: 'shutdown', check: shutdown.check },
      ...(options.readiness ?? []),
      { name: 'inFlight', check: () => inFlight.check() },
    ];
    for (const { name, check, informational } of readiness) {
      try {
        await check();
        checks[name] = 'ok';
      } catch (error) {
        if (informational !== true) ready = false;
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
  app.post('/v1/remediate', authenticate('remediate:analyze'), async (request, reply) => {
    const parsed = parseRemediateInput(request.body);
    if (!parsed.ok) throw parsed.error;
    const input = parsed.value;
    const principal = principalOf(request);
    const canExecute = principal.scopes.has('remediate:execute');
    // Shadow mode changes nothing (server-side dry-runs only): it needs no execute scope.
    if ((input.approve || executesUnattended(input.mode)) && !canExecute)
      requireScope(principal, 'remediate:execute');
    admit(rateLimits, reply, principal, workOf(input));
    const keyHeader = request.headers['idempotency-key'];
    const idempotencyKey = typeof keyHeader === 'string' && keyHeader.length > 0 ? keyHeader : undefined;
    if (idempotencyKey && idempotencyKey.length > 256)
      throw new InvalidInputError([{ path: 'Idempotency-Key', message: 'at most 256 characters' }]);
    // Compared only on a replay under the same Idempotency-Key: not hashed without one.
    const requestHash = idempotencyKey ? digest(request.body) : undefined;
    const options = { actor: principal.name, canExecute, idempotencyKey, requestHash };
    if (/\brespond-async\b/.test(String(request.headers.prefer ?? ''))) {
      const session = await service.start(input, options);
      return reply
        .code(202)
        .header('location', `/v1/sessions/${session.id}`)
        .header('preference-applied', 'respond-async')
        .send(sessionView(session));
    }
    return service.remediate(input, options);
  });

  app.get('/v1/sessions/:id', authenticate('remediate:analyze'), async (request) => {
    const id = sessionIdOf(request);
    const session = await service.session(id);
    if (!session) throw new KubemendError('session-not-found', `session ${id} not found`);
    return sessionView(session);
  });

  app.post('/v1/sessions/:id/approve', authenticate('remediate:execute'), async (request, reply) => {
    const id = sessionIdOf(request);
    const body = parseBody(ApproveBodySchema, request.body);
    const principal = principalOf(request);
    admit(rateLimits, reply, principal, ['executions']);
    const approver =
      body.approver === principal.name
        ? principal.name
        : `${body.approver} (authenticated as ${principal.name})`;
    return service.approve(id, {
      approver,
      actionIds: body.actionIds,
      planHash: body.planHash,
    });
  });

  app.post('/v1/sessions/:id/reject', authenticate('remediate:execute'), async (request) => {
    const id = sessionIdOf(request);
    const body = parseBody(RejectBodySchema, request.body);
    const principal = principalOf(request);
    const approver =
      body.approver === principal.name
        ? principal.name
        : `${body.approver} (authenticated as ${principal.name})`;
    return sessionView(await service.reject(id, { approver, reason: body.reason }));
  });

  registerScanRoutes(app, {
    service,
    route: authenticate('remediate:analyze'),
    admit: (request, reply) => admit(rateLimits, reply, principalOf(request), ['analyses']),
  });

  registerAlertRoutes(app, {
    service,
    section: configuration.alerts,
    route: authenticate('remediate:analyze'),
    counted: (outcome) => metrics.alerts.inc({ outcome }),
  });

  app.get('/v1/audit', authenticate('audit:read'), async (request) => {
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

  app.get('/v1/audit/verify', authenticate('audit:read'), async () => service.auditRecorder.verify());

  // The report reads what the audit log's reader may read: every session's outcome (ADR 0036).
  app.get('/v1/reports/shadow', authenticate('audit:read'), async (request) => {
    const query = request.query as { since?: string; from?: string; to?: string };
    return service.report(reportRange(query, new Date()));
  });

  // --- the approvals web page (/ui): its own module, its own sign-in and error pages ----------
  await registerUi(app, { service, configuration, authenticator });

  // --- MCP over Streamable HTTP ---------------------------------------------------------------
  const mcpSessions = new McpSessions(
    {
      idleTimeoutMs: durationMs(configuration.server.mcpSessions.idleTimeout),
      perCaller: configuration.server.mcpSessions.perCaller,
      max: configuration.server.mcpSessions.max,
    },
    {
      records: service.sessionStore.mcpSessions,
      onRecordError: (action, error) =>
        app.log.warn(
          { err: error },
          `MCP session record (${action}) failed; the session goes on in this process only`,
        ),
    },
  );
  mcpSessions.register(metrics.registry);
  registerMcpRoutes(app, {
    service,
    configuration,
    authenticator,
    sessions: mcpSessions,
    admit: (principal, work) => void rateLimits.take(principal.name, work),
  });

  return { app, metrics, stop: () => shutdown.stop() };
}
