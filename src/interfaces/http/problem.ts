/** RFC 9457 problem documents, and the one place where error codes become HTTP statuses. */
import { type ErrorCode, type FieldIssue, InvalidInputError, KubemendError } from '../../domain/index.js';
import { KubernetesApiError } from '../../cluster/errors.js';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode | 'rate-limited' | 'not-found' | 'method-not-allowed' | 'origin-not-allowed';
  readonly errors?: readonly FieldIssue[];
  readonly instance?: string;
}

const STATUS: Readonly<Record<string, number>> = {
  'invalid-input': 400,
  'input-too-large': 413,
  'policy-not-found': 400,
  'configuration-invalid': 500,
  'not-authenticated': 401,
  forbidden: 403,
  'session-not-found': 404,
  'session-conflict': 409,
  'session-state': 409,
  'plan-changed': 409,
  'idempotency-mismatch': 422,
  'cluster-unreachable': 503,
  'cluster-retryable': 503,
  'cluster-forbidden': 502,
  'cluster-not-found': 502,
  'cluster-conflict': 409,
  'cluster-invalid': 502,
  'audit-unavailable': 503,
  'rate-limited': 429,
  'not-found': 404,
  'method-not-allowed': 405,
  'origin-not-allowed': 403,
  internal: 500,
};

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function problem(
  code: Problem['code'],
  detail: string,
  extra: { errors?: readonly FieldIssue[]; instance?: string } = {},
): Problem {
  const status = STATUS[code] ?? 500;
  return {
    type: `https://kubemend.dev/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(extra.errors && extra.errors.length > 0 ? { errors: extra.errors } : {}),
    ...(extra.instance ? { instance: extra.instance } : {}),
  };
}

/** Translate any thrown value. Internal failures are never reported as the caller's fault. */
export function toProblem(error: unknown, instance?: string): Problem {
  if (error instanceof InvalidInputError)
    return problem(error.code, error.message, { errors: error.issues, instance });
  if (error instanceof KubernetesApiError) {
    const code = error.retryable ? 'cluster-retryable' : error.code;
    return problem(code, `the Kubernetes API answered: ${error.message}`, { instance });
  }
  if (error instanceof KubemendError) return problem(error.code, error.message, { instance });
  return problem('internal', 'an internal error occurred; it has been logged', { instance });
}
