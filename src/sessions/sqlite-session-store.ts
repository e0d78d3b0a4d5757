/**
 * SessionStore on SQLite (better-sqlite3): the embedded default. One file under the data
 * directory, WAL mode (readers never block the writer), a busy timeout so several processes can
 * share the file, and the schema migrated on open.
 *
 * Every write is one statement — with its audit records, in one transaction of the connection's
 * group-commit queue (`SqliteWriteQueue`). `transition` is `UPDATE ... WHERE id = ? AND state IN (...)`:
 * SQLite runs writers one at a time under the database's write lock and evaluates the WHERE
 * clause under that lock, so of any number of concurrent transitions from the same state —
 * from this process or others — exactly one changes a row; the rest see `changes = 0`.
 */
import type Database from 'better-sqlite3';
import type { AuditEntry } from '../audit/recorder.js';
import { SqliteAuditRecorder } from '../audit/sqlite-audit-recorder.js';
import { KubemendError } from '../domain/errors.js';
import type { Migration } from '../storage/migrations.js';
import {
  openSqliteConnection,
  type SqliteConnection,
  type SqliteConnectionOptions,
} from '../audit/sqlite-writes.js';
import { migrateSqlite } from '../storage/sqlite.js';
import { describeError, errorCode } from '../storage/values.js';
import { companionMigrations } from './companion-sql.js';
import { mcpSessionMigrations } from './mcp-session-records.js';
import { SQLITE_LEARNING_MIGRATIONS } from './outcome-rows.js';
import { type FollowingStatement, type Row, type SqlDialect, SqlSessionStore } from './sql-session-store.js';
import { FIRST_SESSION_STATES, SESSION_STATES, sqlList } from './store.js';

const STATE_LIST = sqlList(SESSION_STATES);
const FIRST_STATE_LIST = sqlList(FIRST_SESSION_STATES);
/** The columns before migration 4, copied when it rebuilds the table. */
const PRESERVED_COLUMNS = [
  'id',
  'state',
  'phase',
  'created_at',
  'updated_at',
  'actor',
  'input',
  'output',
  'plan_hash',
  'approvals',
  'rejection',
  'results',
  'idempotency_key',
  'request_hash',
  'owner',
  'version',
  'target_namespace',
  'subject_namespace',
  'category',
].join(', ');

export const SQLITE_SESSION_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create sessions',
    sql: `
      CREATE TABLE sessions (
        id              TEXT    PRIMARY KEY NOT NULL,
        state           TEXT    NOT NULL CHECK (state IN (${FIRST_STATE_LIST})),
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
    name: 'index unfinished sessions (reconciliation of unanswered requests)',
    sql: `CREATE INDEX sessions_unfinished ON sessions (state, updated_at) WHERE phase <> 'done'`,
  },
  {
    version: 3,
    name: 'namespace and category columns for list filters',
    sql: `
      ALTER TABLE sessions ADD COLUMN target_namespace TEXT;
      ALTER TABLE sessions ADD COLUMN subject_namespace TEXT;
      ALTER TABLE sessions ADD COLUMN category TEXT;
      UPDATE sessions SET
        target_namespace  = json_extract(input, '$.target.namespace'),
        subject_namespace = json_extract(output, '$.analysis.subject.namespace'),
        category          = json_extract(output, '$.analysis.category');
      CREATE INDEX sessions_namespace_created
        ON sessions (COALESCE(subject_namespace, target_namespace), created_at);
      CREATE INDEX sessions_category_created ON sessions (category, created_at);
      CREATE INDEX sessions_state_created ON sessions (state, created_at, id);
    `,
  },
  {
    // SQLite cannot change a CHECK constraint in place: the table is rebuilt (its documented
    // procedure), in the migration's transaction.
    version: 4,
    name: 'shadow sessions: states observing and observed, the shadow column (ADR 0035)',
    sql: `
      CREATE TABLE sessions_next (
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
        version         INTEGER NOT NULL CHECK (version >= 1),
        target_namespace  TEXT,
        subject_namespace TEXT,
        category          TEXT,
        shadow          TEXT    CHECK (shadow IS NULL OR json_valid(shadow))
      ) STRICT;
      INSERT INTO sessions_next (${PRESERVED_COLUMNS}) SELECT ${PRESERVED_COLUMNS} FROM sessions;
      DROP TABLE sessions;
      ALTER TABLE sessions_next RENAME TO sessions;
      CREATE INDEX sessions_state_updated ON sessions (state, updated_at);
      CREATE INDEX sessions_created ON sessions (created_at);
      CREATE INDEX sessions_unfinished ON sessions (state, updated_at) WHERE phase <> 'done';
      CREATE INDEX sessions_namespace_created
        ON sessions (COALESCE(subject_namespace, target_namespace), created_at);
      CREATE INDEX sessions_category_created ON sessions (category, created_at);
      CREATE INDEX sessions_state_created ON sessions (state, created_at, id);
    `,
  },
  {
    version: 5,
    name: 'sessions carry their cluster',
    sql: `ALTER TABLE sessions ADD COLUMN cluster TEXT;`,
  },
];

export interface SqliteSessionStoreOptions extends SqliteConnectionOptions {
  readonly clock?: () => Date;
}

const DIALECT: SqlDialect = {
  name: 'SQLite',
  table: 'sessions',
  outcomesTable: 'outcomes',
  decode: {
    json: (value) => JSON.parse(String(value)) as unknown,
    timestamp: (value) => String(value),
  },
  placeholder: () => '?',
  timestamp: () => '?',
  oneOf: (column) => `${column} IN (SELECT value FROM json_each(?))`,
  listValue: (values) => JSON.stringify(values),
  noLimit: -1,
  uniqueViolation: (error) => {
    const code = errorCode(error);
    if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
      return /alert_incidents/.test(describeError(error)) ? 'alert-incident' : 'id';
    return code === 'SQLITE_CONSTRAINT_UNIQUE' ? 'idempotency-key' : undefined;
  },
  qualify: (name) => name,
  skipLocked: '',
};

export class SqliteSessionStore extends SqlSessionStore {
  private readonly connection: SqliteConnection;
  private readonly ownsConnection: boolean;
  private readonly statements = new Map<string, Database.Statement<unknown[], Row>>();
  /** The audit log in the same file, on the same connection and write queue. */
  readonly audit: SqliteAuditRecorder;

  /**
   * Opens (creating and migrating) the database at `path` — `:memory:` for a private one — or
   * uses an open connection; the audit log is opened on the same connection.
   */
  constructor(target: string | SqliteConnection, options: SqliteSessionStoreOptions = {}) {
    super(DIALECT, options.clock ?? (() => new Date()));
    this.ownsConnection = typeof target === 'string';
    try {
      this.connection = typeof target === 'string' ? openSqliteConnection(target, options) : target;
    } catch (error) {
      throw failure(`open ${String(target)}`, error);
    }
    try {
      migrateSqlite(this.connection.db, 'sessions', SQLITE_SESSION_MIGRATIONS);
      const companions = companionMigrations((name) => name);
      migrateSqlite(this.connection.db, 'notifications', companions.notifications);
      migrateSqlite(this.connection.db, 'alerts', companions.alerts);
      migrateSqlite(
        this.connection.db,
        'mcp',
        mcpSessionMigrations((name) => name),
      );
      migrateSqlite(this.connection.db, 'learning', SQLITE_LEARNING_MIGRATIONS);
      this.audit = new SqliteAuditRecorder(this.connection, options);
    } catch (error) {
      if (this.ownsConnection) this.connection.db.close();
      throw failure('migrate the database', error);
    }
  }

  protected async read(sql: string, values: readonly unknown[]): Promise<Row[]> {
    return this.statement(sql).all(...values);
  }

  protected async write(
    sql: string,
    values: readonly unknown[],
    audit: readonly AuditEntry[],
    after: readonly FollowingStatement[],
  ): Promise<Row[]> {
    const at = this.clockNow();
    return (
      await this.connection.writer.run({ sql, values, audit, at, ...(after.length > 0 ? { after } : {}) })
    ).rows;
  }

  async close(): Promise<void> {
    if (this.ownsConnection) await this.connection.close();
  }

  private statement(sql: string): Database.Statement<unknown[], Row> {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.connection.db.prepare<unknown[], Row>(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

function failure(what: string, error: unknown): KubemendError {
  if (error instanceof KubemendError) return error;
  return new KubemendError('internal', `session store (SQLite): could not ${what}: ${describeError(error)}`, {
    cause: error,
  });
}
