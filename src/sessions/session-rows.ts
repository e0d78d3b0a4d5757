/**
 * The mapping between `SessionRecord` fields and table columns, shared by the SQLite and
 * PostgreSQL stores. JSON fields are written as JSON text by both (never left to a driver's own
 * conversion: `pg` would turn an array into a PostgreSQL array literal).
 */
import { KubemendError } from '../domain/errors.js';
import { normalizeTimestamp } from '../storage/values.js';
import {
  type NewSession,
  SESSION_STATES,
  type SessionChanges,
  type SessionRecord,
  type SessionState,
} from './store.js';

type ColumnKind = 'text' | 'json' | 'timestamp';

interface Field {
  readonly key: keyof SessionRecord;
  readonly column: string;
  readonly kind: ColumnKind;
  /** Optional fields are stored as NULL when absent; a change to `undefined` clears them. */
  readonly optional: boolean;
}

/** Every field but `version` (the stores compute it). */
export const SESSION_FIELDS: readonly Field[] = [
  { key: 'id', column: 'id', kind: 'text', optional: false },
  { key: 'state', column: 'state', kind: 'text', optional: false },
  { key: 'phase', column: 'phase', kind: 'text', optional: false },
  { key: 'createdAt', column: 'created_at', kind: 'timestamp', optional: false },
  { key: 'updatedAt', column: 'updated_at', kind: 'timestamp', optional: false },
  { key: 'actor', column: 'actor', kind: 'text', optional: false },
  { key: 'input', column: 'input', kind: 'json', optional: false },
  { key: 'output', column: 'output', kind: 'json', optional: true },
  { key: 'planHash', column: 'plan_hash', kind: 'text', optional: true },
  { key: 'approvals', column: 'approvals', kind: 'json', optional: false },
  { key: 'rejection', column: 'rejection', kind: 'json', optional: true },
  { key: 'results', column: 'results', kind: 'json', optional: false },
  { key: 'idempotencyKey', column: 'idempotency_key', kind: 'text', optional: true },
  { key: 'requestHash', column: 'request_hash', kind: 'text', optional: true },
  { key: 'owner', column: 'owner', kind: 'text', optional: true },
  { key: 'shadow', column: 'shadow', kind: 'json', optional: true },
  { key: 'cluster', column: 'cluster', kind: 'text', optional: true },
];

/** Fields `update` and `transition` may change (not id, createdAt, version; updatedAt apart). */
const CHANGEABLE = SESSION_FIELDS.filter((field) => !['id', 'createdAt', 'updatedAt'].includes(field.key));

export interface ColumnValue {
  readonly column: string;
  readonly value: string | null;
}

/** The columns and values of a new session (with its first `updatedAt`). */
export function columnsForInsert(session: NewSession, updatedAt: string): ColumnValue[] {
  if (!SESSION_STATES.includes(session.state)) {
    throw new KubemendError('invalid-input', `state: "${String(session.state)}" is not a session state`);
  }
  const record: Record<string, unknown> = { ...session, updatedAt };
  return [
    ...SESSION_FIELDS.map((field) => ({ column: field.column, value: encode(field, record[field.key]) })),
    ...derivedFromInput(session.input),
    ...derivedFromOutput(session.output),
  ];
}

/**
 * Columns kept beside the JSON for `list` filters (indexed, and never parsed from the JSON by
 * the database: PostgreSQL's json operators refuse a document holding a `\u0000` escape, which a
 * log line may well contain). A session's namespace is `COALESCE(subject_namespace,
 * target_namespace)` (`sessionNamespace`); written whenever `input` or `output` is.
 */
export const DERIVED_COLUMNS = ['target_namespace', 'subject_namespace', 'category'] as const;

function derivedFromInput(input: SessionRecord['input'] | undefined): ColumnValue[] {
  return [{ column: 'target_namespace', value: input?.target?.namespace ?? null }];
}

function derivedFromOutput(output: SessionRecord['output'] | undefined): ColumnValue[] {
  return [
    { column: 'subject_namespace', value: output?.analysis.subject?.namespace ?? null },
    { column: 'category', value: output?.analysis.category ?? null },
  ];
}

/**
 * The columns a change writes. A key present with `undefined` clears an optional field and is
 * ignored for a required one. `updatedAt` is not among them: the store stamps every write itself.
 */
export function columnsForChanges(changes: SessionChanges): ColumnValue[] {
  if (changes.state !== undefined && !SESSION_STATES.includes(changes.state)) {
    throw new KubemendError('invalid-input', `state: "${String(changes.state)}" is not a session state`);
  }
  const out: ColumnValue[] = [];
  for (const field of CHANGEABLE) {
    if (!Object.prototype.hasOwnProperty.call(changes, field.key)) continue;
    const value = (changes as Record<string, unknown>)[field.key];
    if (value === undefined && !field.optional) continue;
    out.push({ column: field.column, value: encode(field, value) });
  }
  if (Object.prototype.hasOwnProperty.call(changes, 'input') && changes.input !== undefined)
    out.push(...derivedFromInput(changes.input));
  if (Object.prototype.hasOwnProperty.call(changes, 'output')) out.push(...derivedFromOutput(changes.output));
  return out;
}

function encode(field: Field, value: unknown): string | null {
  if (value === undefined || value === null) {
    if (field.optional) return null;
    throw new KubemendError('invalid-input', `${field.key}: required`);
  }
  switch (field.kind) {
    case 'json':
      return JSON.stringify(value);
    case 'timestamp':
      return normalizeTimestamp(String(value), field.key);
    case 'text':
      if (typeof value !== 'string')
        throw new KubemendError('invalid-input', `${field.key}: must be a string`);
      return value;
  }
}

/** How a driver hands back JSON and timestamp columns. */
export interface RowDecoders {
  json(value: unknown): unknown;
  timestamp(value: unknown): string;
}

/**
 * A stored row as a `SessionRecord`; NULL columns become absent fields. JSON columns are decoded
 * when first read (an enumerable getter that replaces itself with the value): most writes only
 * look at the version and state of the record they get back, and the request and answer they
 * carry can be large.
 */
export function sessionFromRow(row: Record<string, unknown>, decode: RowDecoders): SessionRecord {
  const record: Record<string, unknown> = {};
  for (const field of SESSION_FIELDS) {
    const value = row[field.column];
    if (value === null || value === undefined) continue;
    if (field.kind === 'json') lazily(record, field.key, () => decode.json(value));
    else record[field.key] = field.kind === 'timestamp' ? decode.timestamp(value) : value;
  }
  record['version'] = Number(row['version']);
  if (!SESSION_STATES.includes(record['state'] as SessionState)) {
    throw new KubemendError('internal', `session ${String(row['id'])} has an unknown state`);
  }
  return record as unknown as SessionRecord;
}

/**
 * The record a new session's columns describe, as a read of its row would return it — built from
 * the values just written, so that `create` need not read the row back (`RETURNING *` would copy
 * the stored request and answer back out of the database for nothing). JSON columns are decoded
 * from the text written (lazily, like a read); timestamps as the store decodes them.
 */
export function sessionFromColumns(
  columns: readonly ColumnValue[],
  version: number,
  timestamp: RowDecoders['timestamp'],
): SessionRecord {
  const row: Record<string, unknown> = { version };
  for (const { column, value } of columns) row[column] = value;
  return sessionFromRow(row, { json: (value) => JSON.parse(String(value)) as unknown, timestamp });
}

function lazily(target: Record<string, unknown>, key: string, compute: () => unknown): void {
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get() {
      const value = compute();
      Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
      return value;
    },
    set(value: unknown) {
      Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
    },
  });
}
