/**
 * IncidentStore on SQLite: its own table and migration component (`incidents`), in the same file as
 * the sessions (its own connection). `claim` is one statement, evaluated under SQLite's write lock:
 * of concurrent claims — from this process or another sharing the file — exactly one writes.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../storage/migrations.js';
import { migrateSqlite, openSqliteDatabase, type SqliteOpenOptions } from '../storage/sqlite.js';
import {
  CLAIM_SQL,
  CLOSE_SQL,
  type ClaimResult,
  INCIDENTS_TABLE,
  incidentFromRow,
  type Incident,
  type IncidentKey,
  type IncidentStore,
  keyParams,
  LIST_OPEN_SQL,
  SELECT_SQL,
} from './incidents.js';

export const SQLITE_INCIDENT_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'create incidents', sql: INCIDENTS_TABLE('incidents', 'INTEGER') },
];

const param = (n: number) => `@p${n}`;
/** better-sqlite3 binds named parameters from an object: `@p1` ← `{ p1 }`. */
const named = (...values: unknown[]) => Object.fromEntries(values.map((value, i) => [`p${i + 1}`, value]));
type Row = Record<string, unknown>;

export class SqliteIncidentStore implements IncidentStore {
  private readonly db: Database.Database;

  constructor(path: string, options: SqliteOpenOptions = {}) {
    this.db = openSqliteDatabase(path, options);
    try {
      migrateSqlite(this.db, 'incidents', SQLITE_INCIDENT_MIGRATIONS);
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  async claim(
    key: IncidentKey,
    sessionId: string,
    now: number,
    signalAt: number,
    cooldownMs: number,
  ): Promise<ClaimResult> {
    const written = this.db
      .prepare<unknown[], Row>(CLAIM_SQL('incidents', param))
      .get(named(...keyParams(key), sessionId, now, signalAt, now - cooldownMs));
    if (written) return { claimed: true, incident: incidentFromRow(written) };
    const row = this.db.prepare<unknown[], Row>(SELECT_SQL('incidents', param)).get(named(...keyParams(key)));
    return { claimed: false, incident: incidentFromRow(row!) };
  }

  async close(key: IncidentKey, now: number): Promise<void> {
    this.db.prepare(CLOSE_SQL('incidents', param)).run(named(...keyParams(key), now));
  }

  async listOpen(cluster: string, namespace?: string): Promise<Incident[]> {
    const rows = this.db
      .prepare<unknown[], Row>(LIST_OPEN_SQL('incidents', param, namespace !== undefined))
      .all(named(...(namespace === undefined ? [cluster] : [cluster, namespace])));
    return rows.map(incidentFromRow);
  }

  async dispose(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
