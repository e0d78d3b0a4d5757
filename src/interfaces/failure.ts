/**
 * What every edge says about a thrown value: its code, a message and the offending fields. The
 * edges (HTTP problem documents, MCP tool errors, CLI exit codes) then translate the code through
 * `ERROR_TABLE`; none of them decides a status, hint or exit code of its own.
 */
import { type ErrorCode, type FieldIssue, InvalidInputError, KubemendError } from '../domain/index.js';
import { KubernetesApiError } from '../cluster/errors.js';

export interface Failure {
  readonly code: ErrorCode;
  readonly message: string;
  readonly issues: readonly FieldIssue[];
}

/** Anything that is not a `KubemendError` is a bug: reported as `internal`, never as the caller's fault. */
export function describeFailure(error: unknown): Failure {
  if (error instanceof InvalidInputError)
    return { code: error.code, message: error.message, issues: error.issues };
  if (error instanceof KubernetesApiError)
    return { code: error.code, message: `the Kubernetes API answered: ${error.message}`, issues: [] };
  if (error instanceof KubemendError) return { code: error.code, message: error.message, issues: [] };
  return { code: 'internal', message: 'an internal error occurred; it has been logged', issues: [] };
}
