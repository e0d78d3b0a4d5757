/**
 * The PostgreSQL half of {@link openStorage}: one Pool shared by the session store (with its audit
 * log) and the incident store. A module of its own so that the factory imports the pg driver only
 * when the configuration names PostgreSQL.
 */
import { poolFromOptions } from '../storage/postgres.js';
import type { StorageConfig } from './factory.js';
import { PostgresIncidentStore } from './postgres-incident-store.js';
import { PostgresSessionStore } from './postgres-session-store.js';

export async function openPostgresStores(
  config: Extract<StorageConfig, { driver: 'postgres' }>,
  clock: (() => Date) | undefined,
): Promise<{
  sessions: PostgresSessionStore;
  incidents: PostgresIncidentStore;
  release: () => Promise<void>;
}> {
  const { pool } = poolFromOptions(
    {
      url: config.url,
      ...(config.maxConnections === undefined ? {} : { maxConnections: config.maxConnections }),
    },
    'kubemend',
  );
  try {
    const sessions = await PostgresSessionStore.open({
      pool,
      ...(config.schema === undefined ? {} : { schema: config.schema }),
      ...(clock === undefined ? {} : { clock }),
    });
    const incidents = await PostgresIncidentStore.open(pool, config.schema);
    return { sessions, incidents, release: () => pool.end() };
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}
