/**
 * Opens the durable storage — sessions and the audit log — from one small configuration:
 *
 *   { driver: 'sqlite', path: '/var/lib/kubemend/kubemend.db' }   the embedded default
 *   { driver: 'postgres', url: 'postgres://…' }                  several replicas sharing state
 *
 * Both stores live in the same database and write through one group-commit queue (SQLite: the same
 * file and connection; PostgreSQL: the same schema and Pool), so a session change and its audit
 * records commit in one transaction. Production and the integration tests open storage here.
 */
import { z } from 'zod';
import type { AuditStore } from '../audit/audit-store.js';
import type { IncidentStore } from './incidents.js';
import { SqliteIncidentStore } from './sqlite-incident-store.js';
import { SqliteSessionStore } from './sqlite-session-store.js';
import type { SessionStore } from './store.js';

export const StorageConfigSchema = z.discriminatedUnion('driver', [
  z.strictObject({
    driver: z.literal('sqlite'),
    /** The database file, e.g. `<data directory>/kubemend.db` (`:memory:`: throw-away, per store). */
    path: z.string().min(1),
    busyTimeoutMs: z.number().int().min(0).max(600_000).optional(),
    synchronous: z.enum(['full', 'normal']).optional(),
    /** Every write on a worker thread (the second core) instead of the calling thread. */
    writerThread: z.boolean().optional(),
  }),
  z.strictObject({
    driver: z.literal('postgres'),
    url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL'),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and underscores')
      .optional(),
    maxConnections: z.number().int().min(1).max(1000).optional(),
  }),
]);

export type StorageConfig = z.infer<typeof StorageConfigSchema>;

export interface Storage {
  readonly sessions: SessionStore;
  readonly audit: AuditStore;
  /** The watcher's incidents (their own table and migrations; src/sessions/incidents.ts). */
  readonly incidents: IncidentStore;
  /** Closes the stores (and the shared Pool). */
  close(): Promise<void>;
}

export interface StorageOptions {
  readonly clock?: () => Date;
}

export async function openStorage(config: StorageConfig, options: StorageOptions = {}): Promise<Storage> {
  const clock = options.clock;
  if (config.driver === 'sqlite') {
    const sessions = new SqliteSessionStore(config.path, {
      ...(config.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: config.busyTimeoutMs }),
      ...(config.synchronous === undefined ? {} : { synchronous: config.synchronous }),
      ...(config.writerThread === undefined ? {} : { writerThread: config.writerThread }),
      ...(clock === undefined ? {} : { clock }),
    });
    let incidents: SqliteIncidentStore;
    try {
      incidents = new SqliteIncidentStore(config.path, {
        ...(config.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: config.busyTimeoutMs }),
        ...(config.synchronous === undefined ? {} : { synchronous: config.synchronous }),
      });
    } catch (error) {
      await sessions.close();
      throw error;
    }
    return storage(sessions, sessions.audit, incidents, () => incidents.dispose());
  }

  // Loaded only for PostgreSQL: a SQLite run (every CLI run) does not load the pg driver.
  const { openPostgresStores } = await import('./postgres-storage.js');
  const opened = await openPostgresStores(config, clock);
  return storage(opened.sessions, opened.sessions.audit, opened.incidents, opened.release);
}

function storage(
  sessions: SessionStore,
  audit: AuditStore,
  incidents: IncidentStore,
  release: () => Promise<void>,
): Storage {
  let closing: Promise<void> | undefined;
  return {
    sessions,
    audit,
    incidents,
    close() {
      closing ??= (async () => {
        await Promise.allSettled([sessions.close(), audit.close()]);
        await release();
      })();
      return closing;
    },
  };
}
