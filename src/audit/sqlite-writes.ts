/**
 * Writes on a SQLite file as data: a unit is one statement (any table) and/or audit records to
 * append after it, in the same transaction — the records only if the statement changed a row.
 * Being data, a unit runs the same in this thread (`inlineWriter`) or on the second core
 * (`threadWriter`: a worker thread with its own connection does every write of the process, in
 * group commits, while this thread reads through its own connection). Either way a unit's promise
 * settles after its transaction has committed.
 *
 * The audit append reads the chain head, inserts the record and moves the head inside the
 * transaction, which holds the database's write lock (IMMEDIATE): no two appenders — in this
 * process or another sharing the file — read the same head, so the chain never forks.
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { KubemendError } from '../domain/errors.js';
import { GroupCommitQueue, type Outcome } from '../storage/group-commit.js';
import { batchRunner, openSqliteDatabase, type SqliteOpenOptions } from '../storage/sqlite.js';
import {
  AUDIT_COLUMNS,
  auditUnavailable,
  type ChainHead,
  describeEntries,
  recordValues,
  sealRecord,
} from './audit-store.js';
import type { AuditEntry, AuditRecord } from './recorder.js';

export type Row = Record<string, unknown>;

export interface SqlUnit {
  /** A statement to run first (its rows are returned; `RETURNING` for an UPDATE). */
  readonly sql?: string;
  readonly values?: readonly unknown[];
  /** More statements in the same transaction: after the first, and only if it returned a row. */
  readonly after?: ReadonlyArray<{ readonly sql: string; readonly values: readonly unknown[] }>;
  /** Audit records to append: after the statement, and only if it returned a row. */
  readonly audit?: readonly AuditEntry[];
  /** The records' time (stamped by the caller's clock when the unit was made). */
  readonly at?: string;
}

export interface SqlUnitResult {
  readonly rows: Row[];
  readonly records: AuditRecord[];
}

/** Runs write units in group commits. */
export interface SqlWriter {
  run(unit: SqlUnit): Promise<SqlUnitResult>;
  /** Waits for the units already submitted, then stops. */
  close(): Promise<void>;
}

/** A connection for reads and migrations, and the writer every write goes through. */
export interface SqliteConnection {
  readonly db: Database.Database;
  readonly writer: SqlWriter;
  close(): Promise<void>;
}

export interface SqliteConnectionOptions extends SqliteOpenOptions {
  /** Writes on a worker thread (default: in this thread). Not for `:memory:`. */
  readonly writerThread?: boolean;
}

const STORE = 'SQLite';

/** Executes units on `db` (to be called inside a transaction). */
export function unitExecutor(db: Database.Database): (unit: SqlUnit) => SqlUnitResult {
  const statements = new Map<string, Database.Statement<unknown[], Row>>();
  const statement = (sql: string): Database.Statement<unknown[], Row> => {
    let prepared = statements.get(sql);
    if (prepared === undefined) {
      prepared = db.prepare<unknown[], Row>(sql);
      statements.set(sql, prepared);
    }
    return prepared;
  };
  let append: ((entries: readonly AuditEntry[], at: string) => AuditRecord[]) | undefined;
  return (unit) => {
    const rows = unit.sql === undefined ? [] : statement(unit.sql).all(...(unit.values ?? []));
    if (unit.after !== undefined && (unit.sql === undefined || rows.length > 0))
      for (const next of unit.after) statement(next.sql).run(...next.values);
    const wanted =
      unit.audit !== undefined && unit.audit.length > 0 && (unit.sql === undefined || rows.length > 0);
    if (!wanted) return { rows, records: [] };
    append ??= appender(db);
    const entries = unit.audit!;
    try {
      return { rows, records: append(entries, unit.at ?? new Date().toISOString()) };
    } catch (error) {
      throw auditUnavailable(STORE, `append ${describeEntries(entries)}`, error);
    }
  };
}

function appender(db: Database.Database): (entries: readonly AuditEntry[], at: string) => AuditRecord[] {
  const readHead = db.prepare<[], ChainHead>('SELECT sequence, hash FROM audit_head WHERE id = 1');
  const insert = db.prepare<(string | number | null)[]>(
    `INSERT INTO audit_records (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`,
  );
  const moveHead = db.prepare<[number, string, number]>(
    'UPDATE audit_head SET sequence = ?, hash = ? WHERE id = 1 AND sequence = ?',
  );
  return (entries, at) => {
    const head = readHead.get();
    if (head === undefined) throw new Error('the chain head row is missing');
    let { sequence, hash } = head;
    const records = entries.map((entry) => {
      const record = sealRecord(entry, sequence + 1, at, hash);
      insert.run(...recordValues(record));
      ({ sequence, hash } = record);
      return record;
    });
    if (moveHead.run(sequence, hash, head.sequence).changes !== 1) {
      throw new Error('the chain head moved during the append');
    }
    return records;
  };
}

/** Group commits in this thread, on `db`. */
export function inlineWriter(db: Database.Database): SqlWriter {
  return writer(batchRunner(db, unitExecutor(db)), async () => undefined);
}

/** A writer on a group-commit queue; `close` waits for what was submitted, then `stop`s. */
function writer(
  runBatch: (units: readonly SqlUnit[]) => Outcome<SqlUnitResult>[] | Promise<Outcome<SqlUnitResult>[]>,
  stop: () => Promise<unknown>,
): SqlWriter {
  const queue = new GroupCommitQueue<SqlUnit, SqlUnitResult>(runBatch);
  let last: Promise<unknown> = Promise.resolve();
  return {
    run: (unit) => {
      const result = queue.run(unit);
      last = result.catch(() => undefined);
      return result;
    },
    close: async () => {
      await last;
      await stop();
    },
  };
}

/** A failure as it crosses the thread boundary (an Error's own fields do not survive cloning). */
export interface SentError {
  readonly message: string;
  readonly code?: string;
  readonly kubemend: boolean;
}

export function sendError(error: unknown): SentError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return {
    message,
    ...(typeof code === 'string' ? { code } : {}),
    kubemend: error instanceof KubemendError,
  };
}

function receiveError(sent: SentError): Error {
  if (sent.kubemend && sent.code !== undefined)
    return new KubemendError(sent.code as KubemendError['code'], sent.message);
  return Object.assign(new Error(sent.message), sent.code === undefined ? {} : { code: sent.code });
}

type Reply = { readonly id: number } & (
  | { readonly outcomes: Array<{ ok: true; value: SqlUnitResult } | { ok: false; error: SentError }> }
  | { readonly failed: SentError }
);

/** Group commits on a worker thread with its own connection to `path` (`sqlite-writer-worker`). */
export function threadWriter(path: string, options: SqliteOpenOptions = {}): SqlWriter {
  const typescript = import.meta.url.endsWith('.ts');
  const entry = new URL(`./sqlite-writer-worker${typescript ? '.ts' : '.js'}`, import.meta.url);
  const workerData = { path, options };
  // Built JavaScript runs directly; from TypeScript sources (tests) the worker registers tsx first.
  const worker = typescript
    ? new Worker(
        `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`,
        { eval: true, workerData },
      )
    : new Worker(entry, { workerData });
  const waiting = new Map<
    number,
    { resolve: (o: Outcome<SqlUnitResult>[]) => void; reject: (e: unknown) => void }
  >();
  let next = 0;
  let dead: Error | undefined;
  const failAll = (error: Error) => {
    dead ??= error;
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };
  worker.on('message', (reply: Reply) => {
    const pending = waiting.get(reply.id);
    if (pending === undefined) return;
    waiting.delete(reply.id);
    if ('failed' in reply) pending.reject(receiveError(reply.failed));
    else
      pending.resolve(
        reply.outcomes.map((o) => (o.ok ? o : { ok: false as const, error: receiveError(o.error) })),
      );
  });
  worker.on('error', (error) => failAll(error));
  worker.on('exit', (code) => failAll(new Error(`the SQLite writer thread exited (code ${code})`)));
  return writer(
    (units) =>
      new Promise<Outcome<SqlUnitResult>[]>((resolve, reject) => {
        if (dead) throw dead;
        const id = next++;
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, units });
      }),
    () => worker.terminate(),
  );
}

/** Opens `path` for reads and migrations, with its writer (this thread, or a worker thread). */
export function openSqliteConnection(path: string, options: SqliteConnectionOptions = {}): SqliteConnection {
  const db = openSqliteDatabase(path, options);
  let writer: SqlWriter | undefined;
  const memory = path === ':memory:' || path === '';
  return {
    db,
    // Created on first use: migrations run on `db` first, then the thread opens its connection.
    get writer(): SqlWriter {
      writer ??=
        options.writerThread === true && !memory
          ? threadWriter(path, {
              ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
              ...(options.synchronous === undefined ? {} : { synchronous: options.synchronous }),
            })
          : inlineWriter(db);
      return writer;
    },
    async close() {
      await writer?.close();
      if (db.open) db.close();
    },
  };
}
