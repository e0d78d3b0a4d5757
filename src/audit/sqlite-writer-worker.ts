/**
 * The SQLite writer thread (see `threadWriter` in sqlite-writes.ts): its own connection to the
 * file; each message is a batch of units, run in one IMMEDIATE transaction (each unit in a
 * SAVEPOINT), answered once committed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { batchRunner, openSqliteDatabase, type SqliteOpenOptions } from '../storage/sqlite.js';
import { sendError, type SqlUnit, unitExecutor } from './sqlite-writes.js';

const { path, options } = workerData as { path: string; options: SqliteOpenOptions };
const db = openSqliteDatabase(path, options);
const run = batchRunner(db, unitExecutor(db));

parentPort!.on('message', ({ id, units }: { id: number; units: SqlUnit[] }) => {
  try {
    const outcomes = run(units).map((outcome) =>
      outcome.ok ? outcome : { ok: false as const, error: sendError(outcome.error) },
    );
    parentPort!.postMessage({ id, outcomes });
  } catch (error) {
    parentPort!.postMessage({ id, failed: sendError(error) });
  }
});
