/**
 * IncidentStore on PostgreSQL: its own table and migration component (`incidents`) in the sessions'
 * schema, sharing their Pool. `claim` is one INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING:
 * the conflicting row is locked while the WHERE is evaluated, so of concurrent claims from any
 * number of replicas exactly one writes.
 */
import type { Pool } from 'pg';
import type { Migration } from '../storage/migrations.js';
import { migratePostgres, quoteSchema, withClient } from '../storage/postgres.js';
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

const param = (n: number) => `$${n}`;
type Row = Record<string, unknown>;

export function postgresIncidentMigrations(table: string): readonly Migration[] {
  return [{ version: 1, name: 'create incidents', sql: INCIDENTS_TABLE(table, 'BIGINT') }];
}

export class PostgresIncidentStore implements IncidentStore {
  private constructor(
    private readonly pool: Pool,
    private readonly table: string,
  ) {}

  static async open(pool: Pool, schema = 'public'): Promise<PostgresIncidentStore> {
    const table = `${quoteSchema(schema)}.incidents`;
    await withClient(pool, (client) =>
      migratePostgres(client, schema, 'incidents', postgresIncidentMigrations(table)),
    );
    return new PostgresIncidentStore(pool, table);
  }

  async claim(
    key: IncidentKey,
    sessionId: string,
    now: number,
    signalAt: number,
    cooldownMs: number,
  ): Promise<ClaimResult> {
    const written = await this.pool.query<Row>(CLAIM_SQL(this.table, param), [
      ...keyParams(key),
      sessionId,
      now,
      signalAt,
      now - cooldownMs,
    ]);
    if (written.rows[0]) return { claimed: true, incident: incidentFromRow(written.rows[0]) };
    const found = await this.pool.query<Row>(SELECT_SQL(this.table, param), keyParams(key));
    return { claimed: false, incident: incidentFromRow(found.rows[0]!) };
  }

  async close(key: IncidentKey, now: number): Promise<void> {
    await this.pool.query(CLOSE_SQL(this.table, param), [...keyParams(key), now]);
  }

  async listOpen(cluster: string, namespace?: string): Promise<Incident[]> {
    const { rows } = await this.pool.query<Row>(
      LIST_OPEN_SQL(this.table, param, namespace !== undefined),
      namespace === undefined ? [cluster] : [cluster, namespace],
    );
    return rows.map(incidentFromRow);
  }
}
