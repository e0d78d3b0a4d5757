/**
 * What the durable audit stores (SQLite, PostgreSQL) share: the `AuditStore` surface (the
 * `AuditRecorder` port plus JSON Lines export and close), sealing an entry into a record exactly as
 * it will be stored and read back, the row mapping, and an incremental chain verifier that walks a
 * table of any size in sequence order.
 *
 * Hashing is `hashRecord` from recorder.ts, so records from every store (and the in-memory one)
 * hash identically and an export from one can be verified anywhere.
 */
import { KubemendError } from '../domain/errors.js';
import {
  type AuditEntry,
  type AuditQuery,
  type AuditRecord,
  type AuditRecorder,
  type AuditType,
  type ChainVerification,
  GENESIS_HASH,
  hashRecord,
} from './recorder.js';
import { canonicalJson } from '../domain/index.js';
import { normalizeTimestamp } from '../storage/values.js';

export interface AuditStore extends AuditRecorder {
  /**
   * The whole chain in sequence order as JSON Lines: one canonical JSON record per line, each
   * ending in `\n`, read page by page. Write it with
   * `pipeline(Readable.from(store.exportJsonLines()), output)`; check a file with
   * `verifyChain(parseJsonLines(text))`.
   */
  exportJsonLines(): AsyncIterable<string>;
  close(): Promise<void>;
}

/** The last sequence and hash written, kept in its own row beside the records. */
export interface ChainHead {
  readonly sequence: number;
  readonly hash: string;
}

/** Records read per page when walking the chain (verify, export). */
export const PAGE_SIZE = 1000;

/**
 * The record to store for `entry`: only the fields the table keeps, `detail` normalised through
 * JSON (so what is hashed is exactly what is read back), then hashed with `hashRecord`.
 */
export function sealRecord(
  entry: AuditEntry,
  sequence: number,
  at: string,
  previousHash: string,
): AuditRecord {
  let detail: Record<string, unknown> | undefined;
  if (entry.detail !== undefined && entry.detail !== null) {
    const json = JSON.stringify(entry.detail);
    detail = JSON.parse(json) as Record<string, unknown>;
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      throw new KubemendError('invalid-input', 'audit detail must be a JSON object');
    }
  }
  const base = compact({
    type: entry.type,
    actor: entry.actor,
    sessionId: entry.sessionId ?? undefined,
    actionId: entry.actionId ?? undefined,
    target: entry.target ?? undefined,
    before: entry.before ?? undefined,
    after: entry.after ?? undefined,
    detail,
    sequence,
    at,
    previousHash,
  }) as Omit<AuditRecord, 'hash'>;
  return { ...base, hash: hashRecord(base) };
}

/** Column values of a record, in `AUDIT_COLUMNS` order (detail as JSON text). */
export function recordValues(record: AuditRecord): (string | number | null)[] {
  return [
    record.sequence,
    record.at,
    record.type,
    record.actor,
    record.sessionId ?? null,
    record.actionId ?? null,
    record.target ?? null,
    record.before ?? null,
    record.after ?? null,
    record.detail === undefined ? null : JSON.stringify(record.detail),
    record.previousHash,
    record.hash,
  ];
}

export const AUDIT_COLUMNS = [
  'sequence',
  'at',
  'type',
  'actor',
  'session_id',
  'action_id',
  'target',
  'before_digest',
  'after_digest',
  'detail',
  'previous_hash',
  'hash',
] as const;

/** How a driver hands back JSON and timestamp columns. */
export interface AuditRowDecoders {
  json(value: unknown): unknown;
  timestamp(value: unknown): string;
}

/** A stored row as a record; NULL columns become absent fields (as when it was hashed). */
export function recordFromRow(row: Record<string, unknown>, decode: AuditRowDecoders): AuditRecord {
  const optional = (value: unknown): string | undefined =>
    value === null || value === undefined ? undefined : String(value);
  return compact({
    type: String(row['type']) as AuditType,
    actor: String(row['actor']),
    sessionId: optional(row['session_id']),
    actionId: optional(row['action_id']),
    target: optional(row['target']),
    before: optional(row['before_digest']),
    after: optional(row['after_digest']),
    detail:
      row['detail'] === null || row['detail'] === undefined
        ? undefined
        : (decode.json(row['detail']) as Record<string, unknown>),
    sequence: Number(row['sequence']),
    at: decode.timestamp(row['at']),
    previousHash: String(row['previous_hash']),
    hash: String(row['hash']),
  }) as unknown as AuditRecord;
}

function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Walks a chain one record at a time (so a table never has to fit in memory) with the checks of
 * `verifyChain` — each record links to the hash of the one before and matches its own hash — plus
 * two that only a stored log needs: sequences run 1, 2, 3, ... without gaps (a deleted record is
 * named), and the last record is the chain head the store wrote (a truncated tail is named).
 */
export class ChainVerifier {
  private previousHash: string;
  private expected: number;
  private count = 0;
  private broken: { sequence: number; reason: string } | undefined;

  /**
   * From the start of the log, or — incremental verification — from `from`, a record verified
   * before: the walk then checks only the records after it (and `anchor` that it is unchanged).
   */
  constructor(private readonly from?: ChainHead) {
    this.previousHash = from?.hash ?? GENESIS_HASH;
    this.expected = (from?.sequence ?? 0) + 1;
  }

  /** Checks the record `from` names as read now: still there, still sealed with the same hash. */
  anchor(record: AuditRecord | undefined): void {
    if (this.from === undefined || this.from.sequence === 0 || this.broken !== undefined) return;
    const { sequence, hash } = this.from;
    if (record === undefined) {
      this.broken = { sequence, reason: `record ${sequence}, verified before, is gone` };
    } else {
      const { hash: stored, ...rest } = record;
      if (stored !== hash || hashRecord(rest) !== hash)
        this.broken = { sequence, reason: `record ${sequence} was altered after it was verified` };
    }
  }

  /** `push` for a stored row, naming a row that cannot even be decoded. */
  pushRow(row: Record<string, unknown>, decode: AuditRowDecoders): void {
    let record: AuditRecord;
    try {
      record = recordFromRow(row, decode);
    } catch (error) {
      this.unreadable(Number(row['sequence']), error instanceof Error ? error.message : String(error));
      return;
    }
    this.push(record);
  }

  /** Checks the next record in sequence order. */
  push(record: AuditRecord): void {
    this.count += 1;
    if (this.broken !== undefined) return;
    if (record.sequence !== this.expected) {
      this.broken =
        record.sequence > this.expected
          ? {
              sequence: this.expected,
              reason:
                this.expected === record.sequence - 1
                  ? `record ${this.expected} is missing (the record after ${this.expected - 1} is ${record.sequence})`
                  : `records ${this.expected} to ${record.sequence - 1} are missing (the record after ${this.expected - 1} is ${record.sequence})`,
            }
          : { sequence: record.sequence, reason: `record ${record.sequence} is out of order` };
      return;
    }
    const { hash, ...rest } = record;
    if (record.previousHash !== this.previousHash) {
      this.broken = {
        sequence: record.sequence,
        reason: 'previousHash does not match the hash of the record before it',
      };
    } else if (hashRecord(rest) !== hash) {
      this.broken = {
        sequence: record.sequence,
        reason: 'the record was altered: its content does not match its hash',
      };
    }
    this.previousHash = hash;
    this.expected += 1;
  }

  /** Marks a record that could not even be read (e.g. its detail is not JSON any more). */
  unreadable(sequence: number, why: string): void {
    this.count += 1;
    this.broken ??= { sequence, reason: `the record cannot be read: ${why}` };
  }

  get failed(): boolean {
    return this.broken !== undefined;
  }

  /**
   * The verdict; with `head`, also checks that the chain ends where the store last wrote
   * (`null`: the store keeps a head but its row is gone).
   */
  finish(head?: ChainHead | null): ChainVerification {
    const last = this.expected - 1;
    if (this.broken === undefined && head === null) {
      this.broken = {
        sequence: last + 1,
        reason: 'the chain head is missing: the end of the log cannot be checked',
      };
    }
    if (this.broken === undefined && head !== undefined && head !== null) {
      if (head.sequence > last) {
        this.broken = {
          sequence: last + 1,
          reason:
            head.sequence === last + 1
              ? `record ${last + 1} is missing: the log ends at ${last} but the chain head is at ${head.sequence}`
              : `records ${last + 1} to ${head.sequence} are missing: the log ends at ${last} but the chain head is at ${head.sequence}`,
        };
      } else if (head.sequence < last) {
        this.broken = {
          sequence: head.sequence + 1,
          reason: `record ${head.sequence + 1} was not appended by the recorder (the chain head is at ${head.sequence})`,
        };
      } else if (head.hash !== this.previousHash) {
        this.broken = {
          sequence: last,
          reason: `record ${last} does not match the chain head: the record was replaced`,
        };
      }
    }
    const lastVerified = this.broken === undefined ? { sequence: last, hash: this.previousHash } : undefined;
    return this.broken === undefined
      ? { ok: true, records: this.count, ...(this.from !== undefined ? { last: lastVerified } : {}) }
      : { ok: false, records: this.count, firstBroken: this.broken };
  }
}

/** One record as a JSON Lines line (canonical JSON, so equal records give equal lines). */
export function toJsonLine(record: AuditRecord): string {
  return `${canonicalJson(record)}\n`;
}

/** Records from a JSON Lines export (blank lines ignored). */
export function parseJsonLines(text: string): AuditRecord[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      try {
        return JSON.parse(line) as AuditRecord;
      } catch (error) {
        throw new KubemendError('invalid-input', `line ${index + 1} is not JSON`, { cause: error });
      }
    });
}

/** The error every failed audit read or write becomes, so callers can fail closed on one code. */
export function auditUnavailable(store: string, what: string, error: unknown): KubemendError {
  if (error instanceof KubemendError && error.code === 'audit-unavailable') return error;
  const message = error instanceof Error ? error.message : String(error);
  return new KubemendError('audit-unavailable', `audit log (${store}): could not ${what}: ${message}`, {
    cause: error,
  });
}

/** "a session.created record", "3 records": for error messages. */
export function describeEntries(entries: readonly AuditEntry[]): string {
  return entries.length === 1 ? `a ${entries[0]!.type} record` : `${entries.length} records`;
}

type Row = Record<string, unknown>;

/** The WHERE clause and values of an `AuditQuery`, with the driver's placeholders. */
export function auditConditions(
  query: AuditQuery,
  placeholder: (n: number) => string,
): { where: string; values: unknown[] } {
  const conditions: string[] = [];
  const values: unknown[] = [];
  if (query.sessionId !== undefined) {
    values.push(query.sessionId);
    conditions.push(`session_id = ${placeholder(values.length)}`);
  }
  if (query.since !== undefined) {
    values.push(normalizeTimestamp(query.since, 'since'));
    conditions.push(`at >= ${placeholder(values.length)}`);
  }
  return { where: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, values };
}

/** Every row after `after`, in sequence order, read `PAGE_SIZE` at a time with `page`. */
export async function* rowsInPages(
  page: (after: number, size: number) => Promise<Row[]> | Row[],
  after = 0,
): AsyncIterable<Row> {
  for (;;) {
    const rows = await page(after, PAGE_SIZE);
    yield* rows;
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE_SIZE) return;
    after = Number(last['sequence']);
  }
}
