/**
 * What the SQLite and PostgreSQL session stores share: every query, the mapping of constraint
 * errors, and the rule that a write and its audit records are one transaction. A driver supplies
 * its dialect (placeholders, how a list of states is bound, row decoders) and two primitives —
 * `read`, and `write`, which runs one statement and, when it returned a row, appends the audit
 * records in the same transaction (a unit of the driver's group-commit queue).
 */
import type { AuditEntry, AuditRecorder } from '../audit/recorder.js';
import { KubemendError } from '../domain/errors.js';
import { describeError, normalizeLimit, normalizeTimestamp } from '../storage/values.js';
import {
  type CompanionDriver,
  companionRows,
  type CompanionStatement,
  SqlCompanions,
} from './companion-sql.js';
import { type McpSessionRecords, SqlMcpSessionRecords } from './mcp-session-records.js';
import type { AlertIncidentStore, OutboxStore } from './companions.js';
import { HISTORY_LIMIT, type OutcomeQuery, type OutcomeRecord } from '../learning/history.js';
import { HistoryReuse } from './history-reuse.js';
import { OUTCOME_COLUMNS, outcomeFromRow, outcomeValues } from './outcome-rows.js';
import {
  columnsForChanges,
  columnsForInsert,
  type RowDecoders,
  sessionFromColumns,
  sessionFromRow,
} from './session-rows.js';
import {
  type CreatedRange,
  type NewSession,
  type ReportedSession,
  type SessionChanges,
  type SessionQuery,
  type SessionRecord,
  type SessionState,
  type SessionStore,
  checkQueryStates,
  TERMINAL_STATES,
  transitionRefused,
  updateRefused,
  type WriteOptions,
} from './store.js';

export type Row = Record<string, unknown>;

/** A statement run in the transaction of a write, after its first statement changed a row. */
export interface FollowingStatement {
  readonly sql: string;
  readonly values: readonly unknown[];
}

export interface SqlDialect {
  /** For messages: `SQLite`, `PostgreSQL`. */
  readonly name: string;
  /** The qualified sessions table. */
  readonly table: string;
  /** The qualified outcome history table. */
  readonly outcomesTable: string;
  readonly decode: RowDecoders;
  /** The placeholder of the n-th value (1-based). */
  placeholder(n: number): string;
  /** The placeholder of the n-th value, compared as a timestamp (created_at, updated_at). */
  timestamp(n: number): string;
  /** A condition "column is one of the list bound at placeholder n", and the list's value. */
  oneOf(column: string, n: number): string;
  listValue(values: readonly string[]): unknown;
  /** The LIMIT value meaning "no limit". */
  readonly noLimit: number | null;
  /** Which unique constraint a driver error violates, if it is one. */
  uniqueViolation(error: unknown): 'id' | 'idempotency-key' | 'alert-incident' | undefined;
  /** Qualifies another table of the store (outbox, alert incidents). */
  qualify(name: string): string;
  /** `FOR UPDATE SKIP LOCKED` where the database has it. */
  readonly skipLocked: string;
}

export abstract class SqlSessionStore implements SessionStore {
  abstract readonly audit: AuditRecorder;
  readonly outbox: OutboxStore;
  readonly alerts: AlertIncidentStore;
  readonly mcpSessions: McpSessionRecords;
  /** Outcome history answers, reused for a moment (see `outcomes`). */
  private readonly history = new HistoryReuse();

  protected constructor(
    protected readonly dialect: SqlDialect,
    private readonly clock: () => Date,
  ) {
    const driver: CompanionDriver = {
      table: (name) => dialect.qualify(name),
      placeholder: (n) => dialect.placeholder(n),
      skipLocked: dialect.skipLocked,
      read: (sql, values) => this.read(sql, values),
      write: (sql, values, audit) => this.write(sql, values, audit, []),
    };
    const companions = new SqlCompanions(driver);
    this.mcpSessions = new SqlMcpSessionRecords(driver);
    this.outbox = companions;
    this.alerts = companions;
  }

  /** Runs a read-only query. */
  protected abstract read(sql: string, values: readonly unknown[]): Promise<Row[]>;
  /**
   * Runs one writing statement in a transaction; if it returned a row, runs `after` and appends
   * `audit` in the same transaction. Resolves with the rows once committed; a failure of either
   * rolls the statement back.
   */
  protected abstract write(
    sql: string,
    values: readonly unknown[],
    audit: readonly AuditEntry[],
    after: readonly FollowingStatement[],
  ): Promise<Row[]>;
  abstract close(): Promise<void>;

  async create(session: NewSession, options: WriteOptions = {}): Promise<SessionRecord> {
    const columns = columnsForInsert(session, this.now());
    const { table, placeholder } = this.dialect;
    const sql =
      `INSERT INTO ${table} (${columns.map((c) => c.column).join(', ')}, version) ` +
      `VALUES (${columns.map((_, i) => placeholder(i + 1)).join(', ')}, 1) RETURNING id`;
    const ended = this.history.writing(options.outcomes?.length ?? 0);
    try {
      const rows = await this.write(
        sql,
        columns.map((c) => c.value),
        options.audit ?? [],
        [...this.outcomeInserts(options.outcomes), ...this.companions(options)],
      );
      if (rows.length !== 1) throw new Error('the insert returned no row');
      return sessionFromColumns(columns, 1, this.dialect.decode.timestamp);
    } catch (error) {
      const violated = this.dialect.uniqueViolation(error);
      if (violated !== undefined) {
        const what =
          violated === 'id'
            ? `session ${session.id} already exists`
            : violated === 'alert-incident'
              ? `alert ${options.alertIncident?.fingerprint ?? ''} already opened a session`
              : `a session with idempotency key "${session.idempotencyKey ?? ''}" already exists`;
        throw new KubemendError('session-conflict', what, { cause: error });
      }
      throw this.failure('create the session', error);
    } finally {
      ended();
    }
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    return this.one('read the session', 'id', id);
  }

  async findByIdempotencyKey(key: string): Promise<SessionRecord | undefined> {
    return this.one('read the session', 'idempotency_key', key);
  }

  async update(
    id: string,
    expectedVersion: number,
    changes: SessionChanges,
    options: WriteOptions = {},
  ): Promise<SessionRecord> {
    const { assignments, values } = this.assignments(changes);
    const n = values.length;
    const p = this.dialect.placeholder;
    const rows = await this.change(
      `UPDATE ${this.dialect.table} SET ${assignments} WHERE id = ${p(n + 1)} AND version = ${p(n + 2)} RETURNING *`,
      [...values, id, expectedVersion],
      options,
    );
    if (rows[0] !== undefined) return this.decode(rows[0]);
    throw updateRefused(id, expectedVersion, await this.get(id));
  }

  async transition(
    id: string,
    from: readonly SessionState[],
    to: SessionState,
    changes: SessionChanges = {},
    options: WriteOptions = {},
  ): Promise<SessionRecord | undefined> {
    const { assignments, values } = this.assignments({ ...changes, state: to });
    const n = values.length;
    const rows = await this.change(
      `UPDATE ${this.dialect.table} SET ${assignments} ` +
        `WHERE id = ${this.dialect.placeholder(n + 1)} AND ${this.dialect.oneOf('state', n + 2)} RETURNING *`,
      [...values, id, this.dialect.listValue(from)],
      options,
    );
    if (rows[0] !== undefined) return this.decode(rows[0]);
    return transitionRefused(id, await this.get(id));
  }

  async list(query: SessionQuery = {}): Promise<SessionRecord[]> {
    checkQueryStates(query);
    if (query.states?.length === 0) return [];
    const limit = normalizeLimit(query.limit) ?? this.dialect.noLimit;
    const { table, placeholder, timestamp } = this.dialect;
    const conditions: string[] = [];
    const values: unknown[] = [];
    const next = (value: unknown): number => values.push(value);
    if (query.state !== undefined) conditions.push(`state = ${placeholder(next(query.state))}`);
    if (query.states !== undefined)
      conditions.push(this.dialect.oneOf('state', next(this.dialect.listValue(query.states))));
    if (query.unfinished === true) conditions.push(`phase <> 'done'`);
    if (query.category !== undefined) conditions.push(`category = ${placeholder(next(query.category))}`);
    // A session's namespace: see `sessionNamespace` (columns derived in session-rows.ts).
    if (query.namespace !== undefined)
      conditions.push(
        `COALESCE(subject_namespace, target_namespace) = ${placeholder(next(query.namespace))}`,
      );
    if (query.after !== undefined) {
      const createdAt = timestamp(next(normalizeTimestamp(query.after.createdAt, 'after.createdAt')));
      conditions.push(`(created_at, id) < (${createdAt}, ${placeholder(next(query.after.id))})`);
    }
    values.push(limit);
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const rows = await this.reading('list sessions', () =>
      this.read(
        `SELECT * FROM ${table} ${where} ORDER BY created_at DESC, id DESC LIMIT ${placeholder(values.length)}`,
        values,
      ),
    );
    return rows.map((row) => this.decode(row));
  }

  async listCreated(range: CreatedRange): Promise<ReportedSession[]> {
    const { table, placeholder } = this.dialect;
    const conditions: string[] = [];
    const values: unknown[] = [];
    if (range.from !== undefined) {
      values.push(normalizeTimestamp(range.from, 'from'));
      conditions.push(`created_at >= ${placeholder(values.length)}`);
    }
    if (range.to !== undefined) {
      values.push(normalizeTimestamp(range.to, 'to'));
      conditions.push(`created_at < ${placeholder(values.length)}`);
    }
    values.push(normalizeLimit(range.limit) ?? this.dialect.noLimit);
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const rows = await this.reading('list sessions', () =>
      this.read(
        `SELECT id, state, phase, created_at, updated_at, actor, approvals, output, shadow, version FROM ${table} ${where} ORDER BY created_at, id LIMIT ${placeholder(values.length)}`,
        values,
      ),
    );
    return rows.map((row) => this.decode(row));
  }

  /** The outcome history of a category, newest first (answers reused for a moment: `HistoryReuse`). */
  async outcomes(query: OutcomeQuery): Promise<OutcomeRecord[]> {
    const p = this.dialect.placeholder;
    const since = normalizeTimestamp(query.since, 'since');
    const limit = normalizeLimit(query.limit) ?? HISTORY_LIMIT;
    return this.history.answer(query.category, limit, since, async () => {
      const rows = await this.reading('read the outcome history', () =>
        this.read(
          `SELECT * FROM ${this.dialect.outcomesTable} WHERE at >= ${p(1)} AND (category = ${p(2)} OR outcome = 'rolled-back') ` +
            `ORDER BY at DESC, id DESC LIMIT ${p(3)}`,
          [since, query.category, limit],
        ),
      );
      return rows.map((row) => outcomeFromRow(row, this.dialect.decode.timestamp));
    });
  }

  async purge(before: string): Promise<number> {
    const cutoff = normalizeTimestamp(before, 'before');
    const rows = await this.change(
      `DELETE FROM ${this.dialect.table} WHERE ${this.dialect.oneOf('state', 1)} AND updated_at < ${this.dialect.placeholder(2)} RETURNING id`,
      [this.dialect.listValue(TERMINAL_STATES), cutoff],
      {},
    );
    return rows.length;
  }

  async purgeOutcomes(before: string): Promise<number> {
    const cutoff = normalizeTimestamp(before, 'before');
    const ended = this.history.writing(1);
    const rows = await this.change(
      `DELETE FROM ${this.dialect.outcomesTable} WHERE at < ${this.dialect.placeholder(1)} RETURNING id`,
      [cutoff],
      {},
    ).finally(ended);
    return rows.length;
  }

  private async one(what: string, column: string, value: string): Promise<SessionRecord | undefined> {
    const rows = await this.reading(what, () =>
      this.read(`SELECT * FROM ${this.dialect.table} WHERE ${column} = ${this.dialect.placeholder(1)}`, [
        value,
      ]),
    );
    return rows[0] === undefined ? undefined : this.decode(rows[0]);
  }

  private async change(sql: string, values: readonly unknown[], options: WriteOptions): Promise<Row[]> {
    const ended = this.history.writing(options.outcomes?.length ?? 0);
    try {
      return await this.write(sql, values, options.audit ?? [], [
        ...this.outcomeInserts(options.outcomes),
        ...this.companions(options),
      ]);
    } catch (error) {
      if (this.dialect.uniqueViolation(error) === 'idempotency-key') {
        throw new KubemendError('session-conflict', 'another session already has this idempotency key', {
          cause: error,
        });
      }
      throw this.failure('write the session', error);
    } finally {
      ended();
    }
  }

  private companions(options: WriteOptions): CompanionStatement[] {
    return companionRows(
      { table: (name) => this.dialect.qualify(name), placeholder: (n) => this.dialect.placeholder(n) },
      options.outbox,
      options.alertIncident,
    );
  }

  private outcomeInserts(records: readonly OutcomeRecord[] | undefined): FollowingStatement[] {
    const p = this.dialect.placeholder;
    return (records ?? []).map((record) => ({
      sql: `INSERT INTO ${this.dialect.outcomesTable} (${OUTCOME_COLUMNS.join(', ')}) VALUES (${OUTCOME_COLUMNS.map((_, i) => p(i + 1)).join(', ')})`,
      values: outcomeValues(record),
    }));
  }

  private async reading(what: string, query: () => Promise<Row[]>): Promise<Row[]> {
    try {
      return await query();
    } catch (error) {
      throw this.failure(what, error);
    }
  }

  private assignments(changes: SessionChanges): { assignments: string; values: (string | null)[] } {
    const columns = columnsForChanges(changes);
    // Every write is stamped by the store: a caller cannot make a session look older (and purgeable).
    const values = [...columns.map((c) => c.value), this.now()];
    const p = this.dialect.placeholder;
    const assignments = [
      ...columns.map((c, i) => `${c.column} = ${p(i + 1)}`),
      `updated_at = ${p(columns.length + 1)}`,
      'version = version + 1',
    ].join(', ');
    return { assignments, values };
  }

  private decode(row: Row | undefined): SessionRecord {
    if (row === undefined) throw new KubemendError('internal', 'the session store returned no row');
    return sessionFromRow(row, this.dialect.decode);
  }

  private now(): string {
    return this.clock().toISOString();
  }

  /** The time a write's audit records carry. */
  protected clockNow(): string {
    return this.now();
  }

  /** A driver error as `internal`; audit failures (and other typed errors) pass unchanged. */
  private failure(what: string, error: unknown): KubemendError {
    if (error instanceof KubemendError) return error;
    return new KubemendError(
      'internal',
      `session store (${this.dialect.name}): could not ${what}: ${describeError(error)}`,
      { cause: error },
    );
  }
}
