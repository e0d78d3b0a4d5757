/**
 * The audit log in SQLite: an append-only table of hash-chained records plus a one-row chain head
 * (last sequence and hash). An append reads the head, writes the record and moves the head inside
 * one IMMEDIATE transaction, which takes the database's write lock before reading: two appenders —
 * in this process or any other sharing the file — can never read the same head, so the chain never
 * forks. With `synchronous = FULL` (the default) a record whose `record()` resolved is on disk.
 *
 * Triggers refuse UPDATE and DELETE on the records (append-only against accidents); the hash chain
 * is what detects deliberate tampering by someone able to drop them.
 */
import type Database from 'better-sqlite3';
import { KubemendError } from '../domain/errors.js';
import type { Migration } from '../storage/migrations.js';
import { migrateSqlite, openSqliteDatabase, type SqliteOpenOptions } from '../storage/sqlite.js';
import { normalizeLimit, normalizeTimestamp } from '../storage/values.js';
import {
  AUDIT_COLUMNS,
  type AuditRowDecoders,
  type AuditStore,
  auditUnavailable,
  type ChainHead,
  ChainVerifier,
  PAGE_SIZE,
  recordFromRow,
  recordValues,
  sealRecord,
  toJsonLine,
} from './audit-store.js';
import {
  type AuditEntry,
  type AuditQuery,
  type AuditRecord,
  type ChainVerification,
  GENESIS_HASH,
} from './recorder.js';

export const SQLITE_AUDIT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create audit_records and audit_head',
    sql: `
      CREATE TABLE audit_records (
        sequence      INTEGER PRIMARY KEY NOT NULL CHECK (sequence >= 1),
        at            TEXT    NOT NULL,
        type          TEXT    NOT NULL,
        actor         TEXT    NOT NULL,
        session_id    TEXT,
        action_id     TEXT,
        target        TEXT,
        before_digest TEXT,
        after_digest  TEXT,
        detail        TEXT,
        previous_hash TEXT    NOT NULL,
        hash          TEXT    NOT NULL
      ) STRICT;
      CREATE INDEX audit_records_session ON audit_records (session_id, sequence);
      CREATE INDEX audit_records_at ON audit_records (at);
      CREATE TABLE audit_head (
        id       INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
        sequence INTEGER NOT NULL,
        hash     TEXT    NOT NULL
      ) STRICT;
      INSERT INTO audit_head (id, sequence, hash) VALUES (1, 0, '${GENESIS_HASH}');
      CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
      BEGIN SELECT RAISE(ABORT, 'audit records are append-only: UPDATE refused'); END;
      CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
      BEGIN SELECT RAISE(ABORT, 'audit records are append-only: DELETE refused'); END;
    `,
  },
];

export interface SqliteAuditRecorderOptions extends SqliteOpenOptions {
  readonly clock?: () => Date;
}

const DECODE: AuditRowDecoders = {
  json: (value) => JSON.parse(String(value)) as unknown,
  timestamp: (value) => String(value),
};

type Row = Record<string, unknown>;

const STORE = 'SQLite';

export class SqliteAuditRecorder implements AuditStore {
  private readonly db: Database.Database;
  private readonly clock: () => Date;
  private readonly appendInTransaction: Database.Transaction<(entry: AuditEntry) => AuditRecord>;
  private readonly appendAllInTransaction: Database.Transaction<
    (entries: readonly AuditEntry[]) => AuditRecord[]
  >;

  /** Opens (creating and migrating) the database at `path`; `:memory:` for a private one. */
  constructor(path: string, options: SqliteAuditRecorderOptions = {}) {
    this.clock = options.clock ?? (() => new Date());
    try {
      this.db = openSqliteDatabase(path, options);
    } catch (error) {
      throw auditUnavailable(STORE, `open ${path}`, error);
    }
    try {
      migrateSqlite(this.db, 'audit', SQLITE_AUDIT_MIGRATIONS);
    } catch (error) {
      this.db.close();
      // A schema newer than this code stays a configuration error: retrying will not help.
      throw error instanceof KubemendError ? error : auditUnavailable(STORE, `migrate ${path}`, error);
    }
    const readHead = this.db.prepare<[], ChainHead>('SELECT sequence, hash FROM audit_head WHERE id = 1');
    const insert = this.db.prepare<(string | number | null)[]>(
      `INSERT INTO audit_records (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`,
    );
    const moveHead = this.db.prepare<[number, string, number]>(
      'UPDATE audit_head SET sequence = ?, hash = ? WHERE id = 1 AND sequence = ?',
    );
    const append = (entry: AuditEntry): AuditRecord => {
      const head = readHead.get();
      if (head === undefined) throw new Error('the chain head row is missing');
      const record = sealRecord(entry, head.sequence + 1, this.clock().toISOString(), head.hash);
      insert.run(...recordValues(record));
      if (moveHead.run(record.sequence, record.hash, head.sequence).changes !== 1) {
        throw new Error('the chain head moved during the append');
      }
      return record;
    };
    this.appendInTransaction = this.db.transaction(append);
    this.appendAllInTransaction = this.db.transaction((entries: readonly AuditEntry[]) =>
      entries.map(append),
    );
  }

  async record(entry: AuditEntry): Promise<AuditRecord> {
    try {
      return this.appendInTransaction.immediate(entry);
    } catch (error) {
      throw auditUnavailable(STORE, `append a ${entry.type} record`, error);
    }
  }

  async recordAll(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    if (entries.length === 0) return [];
    try {
      return this.appendAllInTransaction.immediate(entries);
    } catch (error) {
      throw auditUnavailable(STORE, `append ${entries.length} records`, error);
    }
  }

  async list(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const conditions: string[] = [];
    const values: (string | number)[] = [];
    if (query.sessionId !== undefined) {
      conditions.push('session_id = ?');
      values.push(query.sessionId);
    }
    if (query.since !== undefined) {
      conditions.push('at >= ?');
      values.push(normalizeTimestamp(query.since, 'since'));
    }
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const limit = normalizeLimit(query.limit) ?? -1;
    try {
      return this.db
        .prepare<(string | number)[], Row>(`SELECT * FROM audit_records ${where} ORDER BY sequence LIMIT ?`)
        .all(...values, limit)
        .map((row) => recordFromRow(row, DECODE));
    } catch (error) {
      throw auditUnavailable(STORE, 'list records', error);
    }
  }

  /** Walks the whole chain in sequence order inside one read transaction (a consistent snapshot). */
  async verify(): Promise<ChainVerification> {
    try {
      const walk = this.db.transaction((): ChainVerification => {
        const verifier = new ChainVerifier();
        const head = this.db
          .prepare<[], ChainHead>('SELECT sequence, hash FROM audit_head WHERE id = 1')
          .get();
        for (const row of this.db
          .prepare<[], Row>('SELECT * FROM audit_records ORDER BY sequence')
          .iterate()) {
          let record: AuditRecord;
          try {
            record = recordFromRow(row, DECODE);
          } catch (error) {
            verifier.unreadable(
              Number(row['sequence']),
              error instanceof Error ? error.message : String(error),
            );
            continue;
          }
          verifier.push(record);
        }
        return verifier.finish(head ?? null);
      });
      return walk.deferred();
    } catch (error) {
      throw auditUnavailable(STORE, 'verify the chain', error);
    }
  }

  async *exportJsonLines(): AsyncIterable<string> {
    let after = 0;
    for (;;) {
      let rows: Row[];
      try {
        rows = this.db
          .prepare<[number, number], Row>(
            'SELECT * FROM audit_records WHERE sequence > ? ORDER BY sequence LIMIT ?',
          )
          .all(after, PAGE_SIZE);
      } catch (error) {
        throw auditUnavailable(STORE, 'export records', error);
      }
      for (const row of rows) yield toJsonLine(recordFromRow(row, DECODE));
      const last = rows.at(-1);
      if (last === undefined || rows.length < PAGE_SIZE) return;
      after = Number(last['sequence']);
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
