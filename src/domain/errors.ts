/**
 * One base error for infrastructure failures and bugs. Expected outcomes (an unknown cause, a
 * policy denial, a failed dry-run) are values, not exceptions. Edges translate `code` into exit
 * codes, HTTP problem documents and MCP tool errors.
 */

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
  'cluster-unreachable',
  'cluster-forbidden',
  'cluster-not-found',
  'cluster-conflict',
  'cluster-invalid',
  'cluster-retryable',
  'audit-unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

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
