/**
 * Authentication from the headers, before anything reads the body: an `onRequest` hook per route.
 * A request without a valid token (or without the route's scope) is answered at once — 401 or 403
 * — and, when its body has not arrived yet, the connection is closed after the answer, so the body
 * is never read, let alone buffered or parsed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Authenticator, type Principal, requireScope } from '../../auth/authenticator.js';
import type { Scope } from '../../config/configuration.js';
import { KubemendError } from '../../domain/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Browsers on loopback may call /mcp; other origins only when configured. */
const LOOPBACK_ORIGIN = /^https?:\/\/(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/;

export type RequestHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** An `onRequest` hook: the principal from `Authorization`, which must hold `scope`. */
export function authenticateHook(authenticator: Authenticator, scope: Scope): RequestHook {
  return async (request) => {
    const principal = await authenticator.authenticate(request.headers.authorization);
    requireScope(principal, scope);
    request.principal = principal;
  };
}

/** The same for /mcp, which first refuses browser origins other than loopback and the allowed ones. */
export function mcpAuthenticateHook(
  authenticator: Authenticator,
  allowedOrigins: readonly string[],
): RequestHook {
  const authenticate = authenticateHook(authenticator, 'remediate:analyze');
  return async (request, reply) => {
    const origin = request.headers.origin;
    if (origin && !LOOPBACK_ORIGIN.test(origin) && !allowedOrigins.includes(origin))
      throw new KubemendError('origin-not-allowed', `origin ${origin} is not allowed to call /mcp`);
    await authenticate(request, reply);
  };
}

/** The authenticated caller of a route that has an authentication hook. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new KubemendError('internal', 'route without authentication');
  return request.principal;
}
