/**
 * Fair rate limits (`server.rateLimits`): every caller — a token or a ServiceAccount — has its own
 * token bucket per kind of work, one for analyses and one for executions. A bucket holds `burst`
 * calls and refills at `perMinute`; a call takes one token from each bucket its work needs, all or
 * none. So one noisy caller empties only its own buckets, and never starves another caller. The
 * HTTP edge and the MCP tools (over HTTP) share one limiter. In memory, per process (ADR 0021).
 */
import { KubemendError } from '../domain/index.js';

export const WORK_KINDS = ['analyses', 'executions'] as const;
export type WorkKind = (typeof WORK_KINDS)[number];

export interface BucketSettings {
  /** Refill rate; 0 turns this kind's limit off. */
  readonly perMinute: number;
  /** Calls at once, when the bucket is full. */
  readonly burst: number;
}

/** One bucket's state after a call, for the RateLimit header fields. */
export interface BucketState {
  readonly kind: WorkKind;
  /** The quota: calls a full bucket allows. */
  readonly burst: number;
  /** Seconds a bucket takes to fill from empty (the policy's window). */
  readonly windowSeconds: number;
  /** Whole calls left now. */
  readonly remaining: number;
  /** Seconds until the bucket is full again. */
  readonly resetSeconds: number;
  /** Seconds until one call is allowed (0 when one is now). */
  readonly retryAfterSeconds: number;
}

/** A call refused by the caller's own limit: `rate-limited`, with the wait and the buckets' state. */
export class RateLimitedError extends KubemendError {
  readonly retryAfterSeconds: number;
  readonly buckets: readonly BucketState[];

  constructor(caller: string, refused: readonly BucketState[], buckets: readonly BucketState[]) {
    const retryAfterSeconds = Math.max(1, ...refused.map((bucket) => bucket.retryAfterSeconds));
    const kinds = refused
      .map(
        (bucket) =>
          `${bucket.kind} (${bucket.burst} at once, refilled over ${bucket.windowSeconds} s; server.rateLimits.${bucket.kind})`,
      )
      .join(' and ');
    super('rate-limited', `${caller} is over its rate limit for ${kinds}; retry in ${retryAfterSeconds} s`);
    this.name = 'RateLimitedError';
    this.retryAfterSeconds = retryAfterSeconds;
    this.buckets = buckets;
  }
}

interface Bucket {
  tokens: number;
  at: number;
}

export class CallerRateLimits {
  private readonly callers = new Map<string, Partial<Record<WorkKind, Bucket>>>();

  constructor(
    private readonly settings: Readonly<Record<WorkKind, BucketSettings>>,
    private readonly now: () => number = Date.now,
    /** Callers remembered at most; full buckets are forgotten first (a full bucket is a new one). */
    private readonly maxCallers = 10_000,
  ) {}

  /**
   * Takes one call of each kind in `work` for `caller`, all or none. Returns the buckets' state;
   * throws `RateLimitedError` when any of them is empty. Kinds whose limit is off are skipped.
   */
  take(caller: string, work: readonly WorkKind[]): BucketState[] {
    const now = this.now();
    const kinds = [...new Set(work)].filter((kind) => this.settings[kind].perMinute > 0);
    if (kinds.length === 0) return [];
    const buckets = this.bucketsOf(caller);
    for (const kind of kinds)
      this.refill((buckets[kind] ??= { tokens: this.settings[kind].burst, at: now }), kind, now);
    const refused = kinds.filter((kind) => buckets[kind]!.tokens < 1);
    if (refused.length === 0) for (const kind of kinds) buckets[kind]!.tokens -= 1;
    const states = kinds.map((kind) => this.state(kind, buckets[kind]!));
    if (refused.length > 0)
      throw new RateLimitedError(
        caller,
        states.filter((state) => refused.includes(state.kind)),
        states,
      );
    return states;
  }

  private bucketsOf(caller: string): Partial<Record<WorkKind, Bucket>> {
    let buckets = this.callers.get(caller);
    if (buckets) {
      // Most recently used last: the oldest are forgotten first.
      this.callers.delete(caller);
    } else {
      buckets = {};
      if (this.callers.size >= this.maxCallers) this.forget();
    }
    this.callers.set(caller, buckets);
    return buckets;
  }

  private refill(bucket: Bucket, kind: WorkKind, now: number): void {
    const { perMinute, burst } = this.settings[kind];
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * perMinute) / 60_000);
    bucket.at = now;
  }

  private state(kind: WorkKind, bucket: Bucket): BucketState {
    const { perMinute, burst } = this.settings[kind];
    const secondsPerToken = 60 / perMinute;
    return {
      kind,
      burst,
      windowSeconds: Math.ceil(burst * secondsPerToken),
      remaining: Math.floor(bucket.tokens),
      resetSeconds: Math.ceil((burst - bucket.tokens) * secondsPerToken),
      retryAfterSeconds: bucket.tokens >= 1 ? 0 : Math.ceil((1 - bucket.tokens) * secondsPerToken),
    };
  }

  /** Drops callers whose buckets are full again, then the least recently seen half if need be. */
  private forget(): void {
    const now = this.now();
    for (const [caller, buckets] of this.callers) {
      const full = (Object.entries(buckets) as Array<[WorkKind, Bucket]>).every(([kind, bucket]) => {
        this.refill(bucket, kind, now);
        return bucket.tokens >= this.settings[kind].burst;
      });
      if (full) this.callers.delete(caller);
    }
    if (this.callers.size < this.maxCallers) return;
    let drop = Math.ceil(this.callers.size / 2);
    for (const caller of this.callers.keys()) {
      if (drop-- <= 0) break;
      this.callers.delete(caller);
    }
  }
}

/**
 * The work a remediate request asks for: an approval by session id is an execution only; any other
 * request is an analysis, and also an execution when its mode may execute (automatic, hybrid).
 */
export function workOf(input: {
  readonly approve?: readonly string[];
  readonly sessionId?: string;
  readonly mode?: string;
}): WorkKind[] {
  if (input.approve && input.sessionId) return ['executions'];
  return input.mode && input.mode !== 'manual' ? ['analyses', 'executions'] : ['analyses'];
}
