/**
 * Kubernetes API errors, classified once: 403 forbidden, 404 not found, 409 conflict, 422 invalid,
 * 429/5xx and network failures retryable, 401 unauthenticated.
 */
import { KubemendError } from '../domain/index.js';

export type ApiErrorKind =
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'invalid'
  | 'retryable'
  | 'unauthenticated'
  | 'unreachable'
  | 'other';

export class KubernetesApiError extends KubemendError {
  readonly status: number;
  readonly kind: ApiErrorKind;
  readonly reason?: string;
  readonly retryAfterSeconds?: number;

  constructor(
    status: number,
    message: string,
    options: { reason?: string; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    const kind = classifyStatus(status);
    super(codeFor(kind), message, { cause: options.cause });
    this.name = 'KubernetesApiError';
    this.status = status;
    this.kind = kind;
    this.reason = options.reason;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get retryable(): boolean {
    return this.kind === 'retryable' || this.kind === 'unreachable';
  }
}

export function classifyStatus(status: number): ApiErrorKind {
  if (status === 0) return 'unreachable';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  if (status === 422 || status === 400) return 'invalid';
  if (status === 429 || status >= 500) return 'retryable';
  return 'other';
}

function codeFor(kind: ApiErrorKind) {
  switch (kind) {
    case 'forbidden':
      return 'cluster-forbidden' as const;
    case 'not-found':
      return 'cluster-not-found' as const;
    case 'conflict':
      return 'cluster-conflict' as const;
    case 'invalid':
      return 'cluster-invalid' as const;
    case 'retryable':
      return 'cluster-retryable' as const;
    case 'unreachable':
    case 'unauthenticated':
      return 'cluster-unreachable' as const;
    default:
      return 'internal' as const;
  }
}

export function isApiError(error: unknown, kind?: ApiErrorKind): error is KubernetesApiError {
  return error instanceof KubernetesApiError && (kind === undefined || error.kind === kind);
}
