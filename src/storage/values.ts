/** Values both SQL stores normalise the same way: timestamps, limits, driver error fields. */
import { KubemendError } from '../domain/errors.js';

/**
 * A timestamp in the one form both stores keep: ISO 8601 in UTC with milliseconds
 * (`Date#toISOString`), which sorts correctly as text.
 */
export function normalizeTimestamp(value: string, field: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new KubemendError('invalid-input', `${field}: "${value}" is not a timestamp`);
  return new Date(time).toISOString();
}

/** A limit from a query: undefined for none, otherwise a non-negative integer. */
export function normalizeLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new KubemendError('invalid-input', `limit: must be a non-negative integer, got ${limit}`);
  }
  return limit;
}

/** The `code` of a driver error (`SQLITE_CONSTRAINT_UNIQUE`, PostgreSQL's `23505`), if any. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code } = error as { code: unknown };
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** The constraint a PostgreSQL error names, if any. */
export function errorConstraint(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'constraint' in error) {
    const { constraint } = error as { constraint: unknown };
    return typeof constraint === 'string' ? constraint : undefined;
  }
  return undefined;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
