/** An error in words for a result message or an audit record (`409 …`, `network …`). */
import { KubernetesApiError } from '../cluster/errors.js';

export function describe(error: unknown): string {
  if (error instanceof KubernetesApiError) return `${error.status || 'network'} ${error.message}`.trim();
  return error instanceof Error ? error.message : String(error);
}
