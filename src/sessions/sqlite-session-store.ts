/**
 * SessionStore on SQLite (better-sqlite3): the embedded default. One file under the data
 * directory, WAL mode (readers never block the writer), a busy timeout so several processes can
 * share the file, and the schema migrated on open.
 *
 * Every write is one statement. `transition` is `UPDATE ... WHERE id = ? AND state IN (...)`:
 * SQLite runs writers one at a time under the database's write lock and evaluates the WHERE
 * clause under that lock, so of any number of concurrent transitions from the same state —
 * from this process or others — exactly one changes a row; the rest see `changes = 0`.
 */
import type Database from 'better-sqlite3';
import { KubemendError } from '../domain/errors.js';
import { columnsForChanges, columnsForInsert, type RowDecoders, sessionFromRow } from './session-rows.js';
import type { Migration } from '../storage/migrations.js';
import { migrateSqlite, openSqliteDatabase, type SqliteOpenOptions } from '../storage/sqlite.js';
import { describeError, errorCode, normalizeLimit, normalizeTimestamp } from '../storage/values.js';
import {
  type NewSession,
  SESSION_STATES,
  type SessionChanges,
  type SessionQuery,
  type SessionRecord,
  type SessionState,
  type SessionStore,
  TERMINAL_STATES,
  updateRefused,
} from './store.js';

const STATE_LIST = SESSION_STATES.map((state) => `'${state}'`).join(', ');

export const SQLITE_SESSION_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create sessions',
    sql: `
      CREATE TABLE sessions (
        id              TEXT    PRIMARY KEY NOT NULL,
        state           TEXT    NOT NULL CHECK (state IN (${STATE_LIST})),
        phase           TEXT    NOT NULL,
        created_at      TEXT    NOT NULL,
        updated_at      TEXT    NOT NULL,
        actor           TEXT    NOT NULL,
        input           TEXT    NOT NULL CHECK (json_valid(input)),
        output          TEXT    CHECK (output IS NULL OR json_valid(output)),
        plan_hash       TEXT,
        approvals       TEXT    NOT NULL CHECK (json_valid(approvals)),
        rejection       TEXT    CHECK (rejection IS NULL OR json_valid(rejection)),
        results         TEXT    NOT NULL CHECK (json_valid(results)),
        idempotency_key TEXT    UNIQUE,
        request_hash    TEXT,
        owner           TEXT,
        version         INTEGER NOT NULL CHECK (version >= 1)
      ) STRICT;
      CREATE INDEX sessions_state_updated ON sessions (state, updated_at);
      CREATE INDEX sessions_created ON sessions (created_at);
    `,
  },
  {
    version: 2,
    name: 'sessions carry their cluster',
    sql: `ALTER TABLE sessions ADD COLUMN cluster TEXT;`,
  },
];

export interface SqliteSessionStoreOptions extends SqliteOpenOptions {
  readonly clock?: () => Date;
}

const DECODE: RowDecoders = {
  json: (value) => JSON.parse(String(value)) as unknown,
  timestamp: (value) => String(value),
};

type Row = Record<string, unknown>;

export class SqliteSessionStore implements SessionStore {
  private readonly db: Database.Database;
  private readonly clock: () => Date;
  private readonly statements = new Map<string, Database.Statement<unknown[], Row>>();

  /** Opens (creating and migrating) the database at `path`; `:memory:` for a private one. */
  constructor(path: string, options: SqliteSessionStoreOptions = {}) {
    this.clock = options.clock ?? (() => new Date());
    try {
      this.db = openSqliteDatabase(path, options);
    } catch (error) {
      throw failure(`open ${path}`, error);
    }
    try {
      migrateSqlite(this.db, 'sessions', SQLITE_SESSION_MIGRATIONS);
    } catch (error) {
      this.db.close();
      throw failure(`migrate ${path}`, error);
    }
  }

  async create(session: NewSession): Promise<SessionRecord> {
    const columns = columnsForInsert(session, this.now());
    const sql =
      `INSERT INTO sessions (${columns.map((c) => c.column).join(', ')}, version) ` +
      `VALUES (${columns.map(() => '?').join(', ')}, 1) RETURNING *`;
    try {
      return this.decode(this.statement(sql).get(...columns.map((c) => c.value)));
    } catch (error) {
      if (errorCode(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new KubemendError('session-conflict', `session ${session.id} already exists`, { cause: error });
      }
      if (errorCode(error) === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new KubemendError(
          'session-conflict',
          `a session with idempotency key "${session.idempotencyKey ?? ''}" already exists`,
          { cause: error },
        );
      }
      throw failure('create the session', error);
    }
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const row = this.run('read the session', () =>
      this.statement('SELECT * FROM sessions WHERE id = ?').get(id),
    );
    return row === undefined ? undefined : this.decode(row);
  }

  async findByIdempotencyKey(key: string): Promise<SessionRecord | undefined> {
    const row = this.run('read the session', () =>
      this.statement('SELECT * FROM sessions WHERE idempotency_key = ?').get(key),
    );
    return row === undefined ? undefined : this.decode(row);
  }

  async update(id: string, expectedVersion: number, changes: SessionChanges): Promise<SessionRecord> {
    const { assignments, values } = this.assignments(changes);
    const row = this.write(() =>
      this.statement(`UPDATE sessions SET ${assignments} WHERE id = ? AND version = ? RETURNING *`).get(
        ...values,
        id,
        expectedVersion,
      ),
    );
    if (row !== undefined) return this.decode(row);
    throw updateRefused(id, expectedVersion, await this.get(id));
  }

  async transition(
    id: string,
    from: readonly SessionState[],
    to: SessionState,
    changes: SessionChanges = {},
  ): Promise<SessionRecord | undefined> {
    const { assignments, values } = this.assignments({ ...changes, state: to });
    const row = this.write(() =>
      this.statement(
        `UPDATE sessions SET ${assignments} ` +
          `WHERE id = ? AND state IN (SELECT value FROM json_each(?)) RETURNING *`,
      ).get(...values, id, JSON.stringify(from)),
    );
    if (row !== undefined) return this.decode(row);
    if ((await this.get(id)) === undefined) {
      throw new KubemendError('session-not-found', `session ${id} does not exist`);
    }
    return undefined;
  }

  async list(query: SessionQuery = {}): Promise<SessionRecord[]> {
    const limit = normalizeLimit(query.limit) ?? -1;
    const rows = this.run('list sessions', () =>
      query.state === undefined
        ? this.statement('SELECT * FROM sessions ORDER BY created_at DESC, id DESC LIMIT ?').all(limit)
        : this.statement(
            'SELECT * FROM sessions WHERE state = ? ORDER BY created_at DESC, id DESC LIMIT ?',
          ).all(query.state, limit),
    );
    return rows.map((row) => this.decode(row));
  }

  async purge(before: string): Promise<number> {
    const cutoff = normalizeTimestamp(before, 'before');
    const result = this.write(() =>
      this.statement(
        'DELETE FROM sessions WHERE state IN (SELECT value FROM json_each(?)) AND updated_at < ?',
      ).run(JSON.stringify(TERMINAL_STATES), cutoff),
    );
    return result.changes;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private assignments(changes: SessionChanges): { assignments: string; values: (string | null)[] } {
    const columns = columnsForChanges(changes);
    // Every write is stamped by the store: a caller cannot make a session look older (and purgeable).
    const updatedAt = this.now();
    return {
      assignments: [...columns.map((c) => `${c.column} = ?`), 'updated_at = ?', 'version = version + 1'].join(
        ', ',
      ),
      values: [...columns.map((c) => c.value), updatedAt],
    };
  }

  private write<T>(operation: () => T): T {
    try {
      return operation();
    } catch (error) {
      if (errorCode(error) === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new KubemendError('session-conflict', 'another session already has this idempotency key', {
          cause: error,
        });
      }
      throw failure('write the session', error);
    }
  }

  private run<T>(what: string, operation: () => T): T {
    try {
      return operation();
    } catch (error) {
      throw failure(what, error);
    }
  }

  private statement(sql: string): Database.Statement<unknown[], Row> {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare<unknown[], Row>(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private decode(row: Row | undefined): SessionRecord {
    if (row === undefined) throw new KubemendError('internal', 'the session store returned no row');
    return sessionFromRow(row, DECODE);
  }

  private now(): string {
    return this.clock().toISOString();
  }
}

function failure(what: string, error: unknown): KubemendError {
  if (error instanceof KubemendError) return error;
  return new KubemendError('internal', `session store (SQLite): could not ${what}: ${describeError(error)}`, {
    cause: error,
  });
}
