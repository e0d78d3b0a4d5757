/**
 * The approvals web page as a fastify plugin, mounted at /ui by `registerUi`: server-rendered
 * HTML, one style sheet and one script, a cookie sign-in that exchanges the API's bearer tokens,
 * CSRF protection on every change, and the API's scopes (ADR 0029, ADR 0030). Its own error and
 * not-found handlers answer with pages, not problem documents; its body parser (forms) exists only
 * inside this plugin, so the JSON API accepts no forms.
 */
import { randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../../auth/authenticator.js';
import type { Configuration, Scope } from '../../config/configuration.js';
import { uiSessionTtlMs } from '../../config/ui.js';
import { errorMapping, KubemendError } from '../../domain/index.js';
import type { RemediationService } from '../../service/remediation-service.js';
import { describeFailure } from '../failure.js';
import { ASSETS } from './assets.js';
import { EventStreams } from './events.js';
import { html } from './html.js';
import { page } from './layout.js';
import { registerPages } from './pages.js';
import {
  checkCsrf,
  checkSameOrigin,
  COOKIE_NAME,
  COOKIE_PATH,
  isHttps,
  type UiSession,
  UiSessions,
} from './security.js';

export interface UiOptions {
  readonly service: RemediationService;
  readonly configuration: Configuration;
  readonly authenticator: Authenticator;
  /** The clock sign-ins expire by (tests move it). */
  readonly now?: () => number;
  /** How often a live-update stream reads its session (default 1 s). */
  readonly eventPollMs?: number;
  /** The live-update streams (tests look at how many are open); made from `ui` when absent. */
  readonly streams?: EventStreams;
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** A page needs a sign-in that is missing or over. */
export class SignInRequired extends KubemendError {
  constructor(readonly reason: 'expired' | 'unknown') {
    super(
      'not-authenticated',
      reason === 'expired' ? 'your sign-in has expired: sign in again' : 'sign in to use this page',
    );
  }
}

/** What every route of the page uses. */
export interface UiContext {
  readonly options: UiOptions;
  readonly sessions: UiSessions;
  readonly streams: EventStreams;
  /** The signed-in reader with `scope`; throws `SignInRequired` or `forbidden`. */
  reader(request: FastifyRequest, reply: FastifyReply, scope: Scope): UiSession;
  /** For a POST: `reader`, plus the same-origin and CSRF checks. */
  writer(request: FastifyRequest, reply: FastifyReply, scope: Scope): UiSession;
  signIn(request: FastifyRequest, reply: FastifyReply, session: UiSession): void;
  signOut(reply: FastifyReply, session?: UiSession): void;
}

/** Registers the page at /ui (unless `ui.enabled` is false). */
export async function registerUi(app: FastifyInstance, options: UiOptions): Promise<void> {
  if (!options.configuration.ui.enabled) return;
  await app.register(uiPlugin, { prefix: COOKIE_PATH, ...options });
}

async function uiPlugin(app: FastifyInstance, options: UiOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const sessions = new UiSessions(uiSessionTtlMs(options.configuration.ui), now);
  const streams =
    options.streams ??
    new EventStreams({
      max: options.configuration.ui.maxEventStreams,
      ...(options.eventPollMs ? { pollMs: options.eventPollMs } : {}),
    });
  // A per-process key: the cookies it signed end with the process, as the sessions they name do.
  await app.register(fastifyCookie, { secret: randomBytes(32) });
  await app.register(fastifyFormbody, { bodyLimit: 64 * 1024 });
  const allowedOrigins = options.configuration.server.allowedOrigins;

  const current = (request: FastifyRequest, reply: FastifyReply): UiSession => {
    const cookie = request.cookies[COOKIE_NAME];
    const unsigned = cookie ? request.unsignCookie(cookie) : undefined;
    const found = sessions.lookup(unsigned?.valid ? (unsigned.value ?? undefined) : undefined);
    if (found.status === 'valid') return found.session;
    if (cookie) reply.clearCookie(COOKIE_NAME, { path: COOKIE_PATH });
    throw new SignInRequired(found.status === 'expired' ? 'expired' : 'unknown');
  };
  const requireScope = (session: UiSession, scope: Scope) => {
    if (!session.principal.scopes.has(scope))
      throw new KubemendError('forbidden', `${session.principal.name} lacks the ${scope} scope`);
  };
  const ctx: UiContext = {
    options,
    sessions,
    streams,
    reader(request, reply, scope) {
      const session = current(request, reply);
      requireScope(session, scope);
      return session;
    },
    writer(request, reply, scope) {
      checkSameOrigin(request, allowedOrigins);
      const session = current(request, reply);
      checkCsrf(session, (request.body as Record<string, unknown> | undefined)?.['_csrf']);
      requireScope(session, scope);
      return session;
    },
    signIn(request, reply, session) {
      reply.setCookie(COOKIE_NAME, session.id, {
        signed: true,
        httpOnly: true,
        sameSite: 'strict',
        secure: isHttps(request),
        path: COOKIE_PATH,
        maxAge: sessions.ttlSeconds,
      });
    },
    signOut(reply, session) {
      if (session) sessions.delete(session.id);
      reply.clearCookie(COOKIE_NAME, { path: COOKIE_PATH });
    },
  };

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'same-origin');
    reply.header('cross-origin-opener-policy', 'same-origin');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.addHook('preClose', async () => streams.closeAll());

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof SignInRequired && request.method === 'GET') {
      const next = encodeURIComponent(request.url);
      return reply.redirect(`/ui/login?next=${next}${error.reason === 'expired' ? '&expired=1' : ''}`, 303);
    }
    const failure = describeFailure(error);
    const status =
      (error as { statusCode?: number }).statusCode === 413 ? 413 : errorMapping(failure.code).http;
    if (status >= 500) request.log.error({ err: error }, 'ui request failed');
    const signIn = failure.code === 'not-authenticated' ? html` <a href="/ui/login">Sign in</a>.` : '';
    return reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(
        page(
          { title: 'Refused' },
          html`<h1>${statusTitle(status)}</h1>
            <p class="refused" role="alert">${failure.message}${signIn}</p>
            <p><a href="/ui/sessions">Back to the sessions</a></p>`,
        ).value,
      );
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type('text/html; charset=utf-8')
      .send(
        page(
          { title: 'Not found' },
          html`<h1>Not found</h1>
            <p>No page at ${request.url.split('?')[0]}.</p>
            <p><a href="/ui/sessions">Back to the sessions</a></p>`,
        ).value,
      ),
  );

  app.get('/assets/:name', async (request, reply) => {
    const asset = ASSETS[(request.params as { name: string }).name];
    if (!asset) return reply.callNotFound();
    reply.header('etag', asset.etag).header('cache-control', 'no-cache');
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  });

  registerPages(app, ctx);
}

function statusTitle(status: number): string {
  switch (status) {
    case 400:
      return 'That request is not valid';
    case 401:
      return 'Sign-in required';
    case 403:
      return 'Not allowed';
    case 404:
      return 'Not found';
    case 409:
      return 'Conflict';
    default:
      return status >= 500 ? 'Something went wrong' : 'Refused';
  }
}
