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
import { migrateSqlite } from '../storage/sqlite.js';
import {
  openSqliteConnection,
  type SqliteConnection,
  type SqliteConnectionOptions,
} from './sqlite-writes.js';
import { normalizeLimit } from '../storage/values.js';
import {
  auditConditions,
  type AuditRowDecoders,
  type AuditStore,
  auditUnavailable,
  type ChainHead,
  describeEntries,
  ChainVerifier,
  recordFromRow,
  rowsInPages,
  toJsonLine,
} from './audit-store.js';
import {
  type AuditEntry,
  type AuditQuery,
  type AuditRecord,
  type ChainVerification,
  GENESIS_HASH,
  type VerifiedPoint,
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

export interface SqliteAuditRecorderOptions extends SqliteConnectionOptions {
  readonly clock?: () => Date;
}

const DECODE: AuditRowDecoders = {
  json: (value) => JSON.parse(String(value)) as unknown,
  timestamp: (value) => String(value),
};

type Row = Record<string, unknown>;

const STORE = 'SQLite';

export class SqliteAuditRecorder implements AuditStore {
  private readonly connection: SqliteConnection;
  private readonly ownsConnection: boolean;
  private readonly clock: () => Date;

  /**
   * Opens (creating and migrating) the database at `path` — `:memory:` for a private one — or
   * uses an open connection (the session store's, so a session change and its records can share
   * one transaction).
   */
  constructor(target: string | SqliteConnection, options: SqliteAuditRecorderOptions = {}) {
    this.clock = options.clock ?? (() => new Date());
    this.ownsConnection = typeof target === 'string';
    try {
      this.connection = typeof target === 'string' ? openSqliteConnection(target, options) : target;
    } catch (error) {
      throw auditUnavailable(STORE, `open ${String(target)}`, error);
    }
    try {
      migrateSqlite(this.db, 'audit', SQLITE_AUDIT_MIGRATIONS);
    } catch (error) {
      if (this.ownsConnection) this.db.close();
      // A schema newer than this code stays a configuration error: retrying will not help.
      throw error instanceof KubemendError ? error : auditUnavailable(STORE, 'migrate the audit log', error);
    }
  }

  private get db(): Database.Database {
    return this.connection.db;
  }

  async record(entry: AuditEntry): Promise<AuditRecord> {
    const [record] = await this.recordAll([entry]);
    return record!;
  }

  /** Appends in the next group commit (one transaction with the other writes of that turn). */
  async recordAll(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    if (entries.length === 0) return [];
    try {
      const at = this.clock().toISOString();
      return (await this.connection.writer.run({ audit: entries, at })).records;
    } catch (error) {
      throw auditUnavailable(STORE, `append ${describeEntries(entries)}`, error);
    }
  }

  async list(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const { where, values } = auditConditions(query, () => '?');
    const limit = normalizeLimit(query.limit) ?? -1;
    try {
      return this.db
        .prepare<unknown[], Row>(`SELECT * FROM audit_records ${where} ORDER BY sequence LIMIT ?`)
        .all(...values, limit)
        .map((row) => recordFromRow(row, DECODE));
    } catch (error) {
      throw auditUnavailable(STORE, 'list records', error);
    }
  }

  /**
   * Walks the chain in sequence order — all of it, or (incremental) what follows `from` — inside
   * one read transaction (a consistent snapshot), checking it ends at the chain head.
   */
  async verify(from?: VerifiedPoint): Promise<ChainVerification> {
    try {
      const walk = this.db.transaction((): ChainVerification => {
        const verifier = new ChainVerifier(from);
        const head = this.db
          .prepare<[], ChainHead>('SELECT sequence, hash FROM audit_head WHERE id = 1')
          .get();
        const after = from?.sequence ?? 0;
        if (after > 0) {
          const row = this.db
            .prepare<[number], Row>('SELECT * FROM audit_records WHERE sequence = ?')
            .get(after);
          verifier.anchor(row === undefined ? undefined : recordFromRow(row, DECODE));
        }
        for (const row of this.db
          .prepare<[number], Row>('SELECT * FROM audit_records WHERE sequence > ? ORDER BY sequence')
          .iterate(after)) {
          verifier.pushRow(row, DECODE);
        }
        return verifier.finish(head ?? null);
      });
      return walk.deferred();
    } catch (error) {
      throw auditUnavailable(STORE, 'verify the chain', error);
    }
  }

  async *exportJsonLines(): AsyncIterable<string> {
    const page = this.db.prepare<[number, number], Row>(
      'SELECT * FROM audit_records WHERE sequence > ? ORDER BY sequence LIMIT ?',
    );
    try {
      for await (const row of rowsInPages((after, size) => page.all(after, size)))
        yield toJsonLine(recordFromRow(row, DECODE));
    } catch (error) {
      throw auditUnavailable(STORE, 'export records', error);
    }
  }

  async close(): Promise<void> {
    if (this.ownsConnection) await this.connection.close();
  }
}
