/**
 * The approvals page on a real fastify server, for the unit tests (in-memory cluster and stores)
 * and the browser tests (a real API server): tokens with different scopes, a clock that sign-ins
 * expire by, pending sessions made the way analysis leaves them, and sign-in by form.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { InMemoryAuditRecorder } from '../../src/audit/recorder.js';
import { Authenticator, hashToken } from '../../src/auth/authenticator.js';
import type { ClusterGateway } from '../../src/cluster/gateway.js';
import { type Configuration, loadConfiguration } from '../../src/config/configuration.js';
import { loadPolicies } from '../../src/config/policies.js';
import type { RemediateOutput, RemediationAction } from '../../src/domain/index.js';
import { EventStreams } from '../../src/interfaces/ui/events.js';
import { registerUi } from '../../src/interfaces/ui/plugin.js';
import { planHashOf, RemediationService } from '../../src/service/remediation-service.js';
import { InMemorySessionStore } from '../../src/sessions/in-memory-session-store.js';
import type { NewSession, SessionRecord, SessionStore } from '../../src/sessions/store.js';

export const TOKENS = {
  operator: 'operator-token-0123456789abcdef',
  reader: 'reader-token-0123456789abcdef',
  auditor: 'auditor-token-0123456789abcdef',
} as const;

export function uiConfiguration(overrides: Record<string, unknown> = {}): Configuration {
  return loadConfiguration({
    env: {},
    flags: {
      logLevel: 'silent',
      storage: { driver: 'memory' },
      auth: {
        tokens: [
          {
            name: 'operator',
            sha256: hashToken(TOKENS.operator),
            scopes: ['remediate:analyze', 'remediate:execute', 'audit:read'],
          },
          { name: 'reader', sha256: hashToken(TOKENS.reader), scopes: ['remediate:analyze'] },
          { name: 'auditor', sha256: hashToken(TOKENS.auditor), scopes: ['audit:read'] },
        ],
      },
      ...overrides,
    } as never,
  });
}

export class TestClock {
  time = Date.parse('2026-11-25T12:00:00.000Z');
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

export interface UiHarness {
  readonly app: FastifyInstance;
  readonly service: RemediationService;
  readonly sessions: SessionStore;
  readonly audit: InMemoryAuditRecorder;
  readonly clock: TestClock;
  readonly streams: EventStreams;
  close(): Promise<void>;
}

export async function uiHarness(
  options: {
    cluster?: ClusterGateway;
    sessions?: SessionStore;
    engine?: { pollIntervalMs?: number; stabilityMs?: number };
    configuration?: Configuration;
    /** Told of every response (the benchmark takes fastify's server time from it). */
    onResponse?: (elapsedMs: number) => void;
  } = {},
): Promise<UiHarness> {
  const configuration = options.configuration ?? uiConfiguration();
  const clock = new TestClock();
  // The audit log is the session store's own (a change and its records commit together); `audit`
  // is it for the default in-memory store.
  const audit = new InMemoryAuditRecorder();
  const sessions = options.sessions ?? new InMemorySessionStore(undefined, audit);
  const service = new RemediationService({
    configuration,
    policies: loadPolicies(undefined),
    ...(options.cluster ? { cluster: options.cluster } : {}),
    sessions,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    engine: options.engine ?? { pollIntervalMs: 1, stabilityMs: 1 },
  });
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const streams = new EventStreams({ max: configuration.ui.maxEventStreams, pollMs: 20 });
  await registerUi(app, {
    service,
    configuration,
    authenticator: new Authenticator(configuration.auth),
    now: clock.now,
    streams,
  });
  const onResponse = options.onResponse;
  if (onResponse) app.addHook('onResponse', async (_request, reply) => onResponse(reply.elapsedTime));
  await app.ready();
  return { app, service, sessions, audit, clock, streams, close: () => app.close() };
}

export function outputFor(
  id: string,
  actions: RemediationAction[],
  category = 'oom-killed',
): RemediateOutput {
  return {
    status: 'pending',
    sessionId: id,
    analysis: {
      rootCause: 'the container runs out of memory: its limit is below what it uses',
      confidence: 0.92,
      factors: ['exit code 137 (OOMKilled)'],
      category: category as RemediateOutput['analysis']['category'],
      evidence: ['Last State: Terminated, Reason: OOMKilled, Exit Code: 137'],
      source: 'rules',
    },
    remediation: { summary: 'raise the memory limit', actions, risk: 'medium' },
    executed: false,
  };
}

/** A session as analysis leaves it when its actions await approval. */
export function pendingSession(
  store: SessionStore,
  id: string,
  actions: RemediationAction[],
  overrides: Partial<NewSession> = {},
): Promise<SessionRecord> {
  return store.create({
    id,
    state: 'pending',
    phase: 'done',
    createdAt: '2026-11-25T12:00:00.000Z',
    actor: 'token:ci',
    input: {
      issue: `${id}: pods keep restarting`,
      target: { kind: 'Deployment', namespace: 'shop', name: 'web' },
    },
    output: outputFor(id, actions),
    planHash: planHashOf(actions),
    approvals: [],
    results: [],
    ...overrides,
  });
}

/** The value of the first `name="_csrf"` field of a page. */
export function csrfOf(page: string): string {
  const match = /name="_csrf"\s+value="([^"]+)"/.exec(page);
  if (!match?.[1]) throw new Error('the page has no CSRF field');
  return match[1];
}

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Signs in through the form; the cookie to send and the CSRF token of the sessions page. */
export async function signIn(app: FastifyInstance, token: string): Promise<{ cookie: string; csrf: string }> {
  const response = await app.inject({
    method: 'POST',
    url: '/ui/login',
    headers: FORM,
    payload: new URLSearchParams({ token }).toString(),
  });
  if (response.statusCode !== 303) throw new Error(`sign-in answered ${response.statusCode}`);
  const cookie = String(response.headers['set-cookie']).split(';')[0]!;
  const list = await app.inject({ method: 'GET', url: '/ui/sessions', headers: { cookie } });
  return { cookie, csrf: csrfOf(list.body) };
}
