/**
 * One base error for infrastructure failures and bugs. Expected outcomes (an unknown cause, a
 * policy denial, a failed dry-run) are values, not exceptions. Every edge translates `code` through
 * the one `ERROR_TABLE` below: the HTTP status of the problem document, the MCP error, the CLI exit
 * code. A code added to `ERROR_CODES` without its row does not compile.
 */

/**
 * CLI exit codes (contract §4): 0 success/pending, 1 failed, 2 bad input; `kubemend scan` exits 3
 * when it found something (0 when it found nothing).
 */
export const EXIT_CODES = { success: 0, failed: 1, badInput: 2, findings: 3 } as const;
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The HTTP statuses an error may carry; each has a reason phrase at the HTTP edge. */
export const HTTP_ERROR_STATUSES = [
  400, 401, 403, 404, 408, 409, 413, 414, 415, 422, 429, 431, 500, 502, 503,
] as const;
export type HttpErrorStatus = (typeof HTTP_ERROR_STATUSES)[number];

/**
 * JSON-RPC error codes for MCP requests that fail as a whole (resource reads): the standard
 * `InvalidParams` and `InternalError`, and MCP's "resource not found".
 */
export const MCP_ERROR_CODES = {
  invalidParams: -32602,
  internalError: -32603,
  resourceNotFound: -32002,
} as const;
export type McpErrorCode = (typeof MCP_ERROR_CODES)[keyof typeof MCP_ERROR_CODES];

export const ERROR_CODES = [
  'invalid-input',
  'input-too-large',
  'configuration-invalid',
  'policy-not-found',
  'session-not-found',
  'session-conflict',
  'session-state',
  'plan-changed',
  'idempotency-mismatch',
  'not-authenticated',
  'forbidden',
  'origin-not-allowed',
  'not-found',
  'uri-too-long',
  'unsupported-media-type',
  'headers-too-large',
  'request-timeout',
  'rate-limited',
  'too-many-sessions',
  'queue-full',
  'shutting-down',
  'cluster-unreachable',
  'cluster-forbidden',
  'cluster-not-found',
  'cluster-conflict',
  'cluster-invalid',
  'cluster-retryable',
  'audit-unavailable',
  'audit-chain-broken',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** How one error code appears at each edge. */
export interface ErrorMapping {
  /** Status of the RFC 9457 problem document. */
  readonly http: HttpErrorStatus;
  /** Seconds for `Retry-After`, when trying again later is the remedy. */
  readonly retryAfterSeconds?: number;
  readonly mcp: {
    /** Tool results are `isError: true` with the message, the code and this next step. */
    readonly hint: string;
    /** JSON-RPC error code when a whole request fails (resource reads). */
    readonly rpc: McpErrorCode;
  };
  /** `kubemend` exit code (never 0, and never 3: that one reports findings, not an error). */
  readonly exit: Exclude<ExitCode, 0 | 3>;
}

const { badInput, failed } = EXIT_CODES;
const { invalidParams, internalError, resourceNotFound } = MCP_ERROR_CODES;
const FIX_INPUT = 'Fix the named field and call again.';
const RETRY = 'Try again later.';
const REVIEW_SESSION = 'Fetch the session again (resource kubemend://sessions/<id>) and review it.';
const CHECK_SESSION = 'Check the sessionId returned by analyze or remediate.';
const OPERATOR = 'Ask the operator of this kubemend to fix its configuration or permissions.';

/** The one translation of error codes, for every edge. */
export const ERROR_TABLE = {
  'invalid-input': { http: 400, mcp: { hint: FIX_INPUT, rpc: invalidParams }, exit: badInput },
  'input-too-large': {
    http: 413,
    mcp: { hint: 'Send a smaller document (trim the logs).', rpc: invalidParams },
    exit: badInput,
  },
  'configuration-invalid': { http: 500, mcp: { hint: OPERATOR, rpc: internalError }, exit: badInput },
  'policy-not-found': {
    http: 400,
    mcp: { hint: 'Name one of the configured policies, or omit policy.', rpc: invalidParams },
    exit: badInput,
  },
  'session-not-found': { http: 404, mcp: { hint: CHECK_SESSION, rpc: resourceNotFound }, exit: failed },
  'session-conflict': { http: 409, mcp: { hint: REVIEW_SESSION, rpc: internalError }, exit: failed },
  'session-state': { http: 409, mcp: { hint: REVIEW_SESSION, rpc: invalidParams }, exit: failed },
  'plan-changed': { http: 409, mcp: { hint: REVIEW_SESSION, rpc: invalidParams }, exit: failed },
  'idempotency-mismatch': {
    http: 422,
    mcp: { hint: 'Use a new Idempotency-Key for a different request.', rpc: invalidParams },
    exit: failed,
  },
  'not-authenticated': {
    http: 401,
    mcp: { hint: 'Send a valid bearer token.', rpc: invalidParams },
    exit: failed,
  },
  forbidden: {
    http: 403,
    mcp: {
      hint: 'Ask for a token with the needed scope, or use the read-only analyze tool.',
      rpc: invalidParams,
    },
    exit: failed,
  },
  'origin-not-allowed': {
    http: 403,
    mcp: { hint: 'Call from an allowed origin (server.allowedOrigins).', rpc: invalidParams },
    exit: failed,
  },
  'not-found': {
    http: 404,
    mcp: { hint: 'See /openapi.json for the routes.', rpc: resourceNotFound },
    exit: failed,
  },
  'uri-too-long': {
    http: 414,
    mcp: { hint: FIX_INPUT, rpc: invalidParams },
    exit: badInput,
  },
  'unsupported-media-type': {
    http: 415,
    mcp: { hint: 'Send the body as application/json.', rpc: invalidParams },
    exit: badInput,
  },
  'headers-too-large': {
    http: 431,
    mcp: { hint: 'Send fewer or smaller headers.', rpc: invalidParams },
    exit: badInput,
  },
  'request-timeout': {
    http: 408,
    mcp: { hint: 'Send the whole request faster, or a smaller one.', rpc: invalidParams },
    exit: failed,
  },
  /** `Retry-After` here is the floor: a caller's own rate limit answers with its bucket's wait. */
  'rate-limited': {
    http: 429,
    retryAfterSeconds: 1,
    mcp: { hint: RETRY, rpc: internalError },
    exit: failed,
  },
  'too-many-sessions': {
    http: 429,
    mcp: {
      hint: 'Close MCP sessions you no longer use (DELETE /mcp), or wait until idle ones expire.',
      rpc: internalError,
    },
    exit: failed,
  },
  'queue-full': {
    http: 503,
    retryAfterSeconds: 5,
    mcp: { hint: RETRY, rpc: internalError },
    exit: failed,
  },
  'shutting-down': {
    http: 503,
    retryAfterSeconds: 1,
    mcp: { hint: 'This kubemend is stopping; call again (another replica answers).', rpc: internalError },
    exit: failed,
  },
  'cluster-unreachable': {
    http: 503,
    retryAfterSeconds: 5,
    mcp: { hint: RETRY, rpc: internalError },
    exit: failed,
  },
  'cluster-forbidden': { http: 502, mcp: { hint: OPERATOR, rpc: internalError }, exit: failed },
  'cluster-not-found': {
    http: 502,
    mcp: { hint: 'The object is gone from the cluster; analyse again.', rpc: internalError },
    exit: failed,
  },
  'cluster-conflict': {
    http: 409,
    mcp: { hint: 'The object changed meanwhile; analyse again.', rpc: internalError },
    exit: failed,
  },
  'cluster-invalid': { http: 502, mcp: { hint: OPERATOR, rpc: internalError }, exit: failed },
  'cluster-retryable': {
    http: 503,
    retryAfterSeconds: 5,
    mcp: { hint: RETRY, rpc: internalError },
    exit: failed,
  },
  'audit-unavailable': {
    http: 503,
    retryAfterSeconds: 5,
    mcp: { hint: RETRY, rpc: internalError },
    exit: failed,
  },
  'audit-chain-broken': { http: 503, mcp: { hint: OPERATOR, rpc: internalError }, exit: failed },
  internal: { http: 500, mcp: { hint: RETRY, rpc: internalError }, exit: failed },
} as const satisfies Record<ErrorCode, ErrorMapping>;

/** The edges' view of one code (typed as the interface, so optional fields read uniformly). */
export function errorMapping(code: ErrorCode): ErrorMapping {
  return ERROR_TABLE[code];
}

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `context.logs[3]`; empty string for the document. */
  readonly path: string;
  readonly message: string;
}

export class KubemendError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubemendError';
    this.code = code;
  }
}

/** The caller sent something that does not satisfy the contract. Names every offending field. */
export class InvalidInputError extends KubemendError {
  readonly issues: readonly FieldIssue[];

  constructor(issues: readonly FieldIssue[], code: 'invalid-input' | 'input-too-large' = 'invalid-input') {
    super(code, formatIssues(issues));
    this.name = 'InvalidInputError';
    this.issues = issues;
  }
}

export class ConfigurationError extends KubemendError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('configuration-invalid', message, options);
    this.name = 'ConfigurationError';
  }
}

function formatIssues(issues: readonly FieldIssue[]): string {
  if (issues.length === 0) return 'invalid input';
  return issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
}

/** Render a zod-style path (`['context', 'logs', 3]`) as `context.logs[3]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}
