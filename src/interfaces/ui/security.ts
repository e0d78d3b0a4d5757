/**
 * Who is signed in to the page, and whether a form really comes from it.
 *
 * - Sign-in exchanges a bearer token (checked by the same `Authenticator` as the API) for a
 *   server-side session: a random 256-bit id, in a cookie signed with a per-process key
 *   (HMAC, @fastify/cookie), HttpOnly, SameSite=Strict, Path=/ui, Secure over https, expiring
 *   with the session (`ui.sessionTtl`). The token itself is never stored.
 * - Every change (POST) needs the session's CSRF token (synchronizer pattern: a random value kept
 *   with the session and put in every form) and, when the browser says where the request comes
 *   from, the same origin (`Sec-Fetch-Site`, `Origin`).
 * - Sessions live in this process's memory: a restart signs everyone out, and behind several
 *   replicas a user needs session affinity (ADR 0030).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/authenticator.js';
import { KubemendError } from '../../domain/index.js';

export const COOKIE_NAME = 'kubemend_ui';
export const COOKIE_PATH = '/ui';

export interface UiSession {
  readonly id: string;
  readonly principal: Principal;
  /** Put in every form; a POST without it is refused. */
  readonly csrf: string;
  readonly expiresAt: number;
}

export type SessionLookup =
  { readonly status: 'valid'; readonly session: UiSession } | { readonly status: 'expired' | 'unknown' };

/** The signed-in sessions of this process; bounded, expired ones swept on the way. */
export class UiSessions {
  private readonly sessions = new Map<string, UiSession>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly max = 10_000,
  ) {}

  create(principal: Principal): UiSession {
    this.sweep();
    // The oldest sign-in makes room: a flood of sign-ins cannot grow memory without bound.
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value as string);
    const session: UiSession = {
      id: randomBytes(32).toString('base64url'),
      principal,
      csrf: randomBytes(32).toString('base64url'),
      expiresAt: this.now() + this.ttlMs,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  lookup(id: string | undefined): SessionLookup {
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (!session) return { status: 'unknown' };
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(session.id);
      return { status: 'expired' };
    }
    return { status: 'valid', session };
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  get ttlSeconds(): number {
    return Math.floor(this.ttlMs / 1000);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
  }
}

/** Whether the page is served over https (directly, or behind a proxy that says so). */
export function isHttps(request: FastifyRequest): boolean {
  const forwarded = request.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return request.protocol === 'https' || first === 'https';
}

/**
 * Refuses a state-changing request that the browser says comes from another site or origin.
 * Browsers send `Sec-Fetch-Site` (and `Origin` on POST); a request without either (a script, an
 * old browser) still needs the CSRF token.
 */
export function checkSameOrigin(request: FastifyRequest, allowedOrigins: readonly string[]): void {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin')
    throw new KubemendError('origin-not-allowed', `a ${site} request cannot change anything here`);
  const origin = request.headers.origin;
  if (typeof origin === 'string' && !allowedOrigins.includes(origin)) {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host === undefined || host !== request.headers.host)
      throw new KubemendError('origin-not-allowed', `origin ${origin} cannot change anything here`);
  }
}

/** The form's CSRF token must be the session's (compared in constant time). */
export function checkCsrf(session: UiSession, given: unknown): void {
  const expected = Buffer.from(session.csrf);
  const actual = Buffer.from(typeof given === 'string' ? given : '');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected))
    throw new KubemendError('forbidden', 'the form has no valid CSRF token: reload the page and try again');
}
