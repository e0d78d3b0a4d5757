/**
 * The serving limits of `kubemend serve` (the `server` section's nested keys): per-caller rate
 * limits, the bounded queue of asynchronous remediations, the caps and idle expiry of MCP sessions,
 * and the time limits of a request and of a graceful stop. Durations are written like `25s`, `30m`.
 */
import { z } from 'zod';
import { parseDuration } from '../planning/policy.js';

const DURATION = /^\d+(ms|s|m|h)$/;
/** A duration setting (`25s`, `30m`) with its default; every section writes durations this way. */
export const duration = (fallback: string) =>
  z.string().regex(DURATION, 'a duration such as 500ms, 25s, 30m or 1h').default(fallback);

/** A duration as written in the configuration (`25s`), in milliseconds. */
export function durationMs(text: string): number {
  return parseDuration(text);
}

/** A token bucket: `burst` calls at once, refilled at `perMinute`; `perMinute: 0` turns it off. */
const BucketSchema = (perMinute: number, burst: number) =>
  z
    .strictObject({
      perMinute: z.number().int().min(0).max(1_000_000).default(perMinute),
      burst: z.number().int().min(1).max(100_000).default(burst),
    })
    .prefault({});

/** Per caller (token or ServiceAccount): one bucket for analyses, one for executions. */
export const RateLimitsSchema = z
  .strictObject({
    /** POST /v1/remediate (any mode) and the MCP analyze/remediate tools. */
    analyses: BucketSchema(120, 30),
    /** Approvals (HTTP and MCP) and remediate in automatic/hybrid mode or with approve. */
    executions: BucketSchema(20, 5),
  })
  .prefault({});

/** Remediations started with `Prefer: respond-async`: run a few at a time, queue a bounded number. */
export const AsyncQueueSchema = z
  .strictObject({
    /** Asynchronous remediations processed at once. */
    concurrency: z.number().int().min(1).max(256).default(4),
    /** Waiting plus running, for all callers; above it: 503 `queue-full` with Retry-After. */
    capacity: z.number().int().min(1).max(100_000).default(256),
    /** Waiting plus running for one caller; above it: 429 `rate-limited`. */
    perCaller: z.number().int().min(1).max(100_000).default(32),
  })
  .prefault({});

/** MCP sessions over Streamable HTTP (held in memory by this replica). */
export const McpSessionsSchema = z
  .strictObject({
    /** A session with no request for this long is closed; its client initialises again. */
    idleTimeout: duration('30m'),
    /** Open sessions per caller; more: 429 `too-many-sessions`. */
    perCaller: z.number().int().min(1).max(100_000).default(32),
    /** Open sessions in all; more: 429 `too-many-sessions`. */
    max: z.number().int().min(1).max(1_000_000).default(1_000),
  })
  .prefault({});

/** The nested keys of `server` that bound time and work (merged into the section's schema). */
export const ServingLimitsShape = {
  /** The whole request (headers and body) must arrive within this; otherwise 408 and the connection closes. */
  requestTimeout: duration('60s'),
  /** On SIGTERM: how long in-flight requests and executions may take before they are cut off. */
  shutdownTimeout: duration('25s'),
  /** On SIGTERM: how long to keep serving with /readyz at 503 before closing the listener. */
  shutdownDelay: duration('0s'),
  rateLimits: RateLimitsSchema,
  asyncQueue: AsyncQueueSchema,
  mcpSessions: McpSessionsSchema,
} as const;
