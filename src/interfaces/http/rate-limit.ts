/**
 * Rate limits over HTTP: each admitted call carries its buckets' state in the RateLimit header
 * fields of draft-ietf-httpapi-ratelimit-headers (`RateLimit-Policy: "analyses";q=30;w=15` — the
 * burst and the seconds a bucket takes to refill; `RateLimit: "analyses";r=29;t=1` — calls left and
 * the seconds until the bucket is full); a refused one is a 429 problem with `Retry-After`.
 */
import type { FastifyReply } from 'fastify';
import type { Principal } from '../../auth/authenticator.js';
import type { BucketState, CallerRateLimits, WorkKind } from '../rate-limit.js';

export function rateLimitHeaders(buckets: readonly BucketState[]): Record<string, string> {
  if (buckets.length === 0) return {};
  return {
    'ratelimit-policy': buckets.map((b) => `"${b.kind}";q=${b.burst};w=${b.windowSeconds}`).join(', '),
    ratelimit: buckets.map((b) => `"${b.kind}";r=${b.remaining};t=${b.resetSeconds}`).join(', '),
  };
}

/** Takes the caller's tokens for `work` and puts the buckets' state on the reply; throws when refused. */
export function admit(
  limits: CallerRateLimits,
  reply: FastifyReply,
  principal: Principal,
  work: readonly WorkKind[],
): void {
  reply.headers(rateLimitHeaders(limits.take(principal.name, work)));
}
