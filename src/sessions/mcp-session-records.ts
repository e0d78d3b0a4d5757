/**
 * MCP sessions (Streamable HTTP) as records in the session store's database, so that a session
 * outlives the process that initialised it: after a restart, or on another replica, the next
 * request of the session is served by a process that rebuilds it from its record (ADR 0043). A
 * record holds what `initialize` established — the caller it is bound to and the client's
 * initialize parameters (protocol version, capabilities, client info) — and when it was last used.
 *
 * The port, its in-memory version, and the SQL version for SQLite and PostgreSQL (component `mcp`,
 * migrated beside `notifications` and `alerts`). Timestamps are ISO-8601 UTC text in both databases.
 */
import type { Migration } from '../storage/migrations.js';
import type { CompanionDriver } from './companion-sql.js';

export interface McpSessionRecord {
  readonly id: string;
  /** The principal that initialised the session: only it may use the session. */
  readonly caller: string;
  /** The client's `initialize` params, replayed when another process rebuilds the session. */
  readonly initialize: unknown;
  readonly createdAt: string;
  readonly lastUsedAt: string;
}

export interface McpSessionRecords {
  save(record: McpSessionRecord): Promise<void>;
  /** The session's record, if it exists and was last used after `usedAfter`. */
  find(id: string, usedAfter: string): Promise<McpSessionRecord | undefined>;
  /** Marks the session used at `at` (never earlier than recorded); false when it has no record. */
  touch(id: string, at: string): Promise<boolean>;
  remove(id: string): Promise<void>;
  /** Removes every record last used before `cutoff`; how many. */
  expire(cutoff: string): Promise<number>;
}

export class InMemoryMcpSessionRecords implements McpSessionRecords {
  private readonly records = new Map<string, McpSessionRecord>();

  async save(record: McpSessionRecord): Promise<void> {
    this.records.set(record.id, structuredClone(record));
  }

  async find(id: string, usedAfter: string): Promise<McpSessionRecord | undefined> {
    const record = this.records.get(id);
    return record && record.lastUsedAt > usedAfter ? structuredClone(record) : undefined;
  }

  async touch(id: string, at: string): Promise<boolean> {
    const record = this.records.get(id);
    if (record && record.lastUsedAt < at) this.records.set(id, { ...record, lastUsedAt: at });
    return record !== undefined;
  }

  async remove(id: string): Promise<void> {
    this.records.delete(id);
  }

  async expire(cutoff: string): Promise<number> {
    let removed = 0;
    for (const [id, record] of this.records)
      if (record.lastUsedAt < cutoff) {
        this.records.delete(id);
        removed++;
      }
    return removed;
  }
}

/** The `mcp` component's migrations; `t` qualifies a table name. */
export function mcpSessionMigrations(t: (name: string) => string): readonly Migration[] {
  return [
    {
      version: 1,
      name: 'create MCP sessions',
      sql: `
        CREATE TABLE ${t('mcp_sessions')} (
          id           TEXT NOT NULL PRIMARY KEY,
          caller       TEXT NOT NULL,
          initialize   TEXT NOT NULL,
          created_at   TEXT NOT NULL,
          last_used_at TEXT NOT NULL
        );
        CREATE INDEX mcp_sessions_last_used ON ${t('mcp_sessions')} (last_used_at);
      `,
    },
  ];
}

export class SqlMcpSessionRecords implements McpSessionRecords {
  private readonly table: string;

  constructor(private readonly driver: CompanionDriver) {
    this.table = driver.table('mcp_sessions');
  }

  async save(record: McpSessionRecord): Promise<void> {
    const p = this.driver.placeholder;
    await this.driver.write(
      `INSERT INTO ${this.table} (id, caller, initialize, created_at, last_used_at) ` +
        `VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}) RETURNING id`,
      [record.id, record.caller, JSON.stringify(record.initialize), record.createdAt, record.lastUsedAt],
      [],
    );
  }

  async find(id: string, usedAfter: string): Promise<McpSessionRecord | undefined> {
    const p = this.driver.placeholder;
    const [row] = await this.driver.read(
      `SELECT id, caller, initialize, created_at, last_used_at FROM ${this.table} ` +
        `WHERE id = ${p(1)} AND last_used_at > ${p(2)}`,
      [id, usedAfter],
    );
    if (row === undefined) return undefined;
    return {
      id: String(row['id']),
      caller: String(row['caller']),
      initialize: JSON.parse(String(row['initialize'])) as unknown,
      createdAt: String(row['created_at']),
      lastUsedAt: String(row['last_used_at']),
    };
  }

  async touch(id: string, at: string): Promise<boolean> {
    const p = this.driver.placeholder;
    const rows = await this.driver.write(
      `UPDATE ${this.table} SET last_used_at = CASE WHEN last_used_at < ${p(1)} THEN ${p(2)} ELSE last_used_at END ` +
        `WHERE id = ${p(3)} RETURNING id`,
      [at, at, id],
      [],
    );
    return rows.length > 0;
  }

  async remove(id: string): Promise<void> {
    const p = this.driver.placeholder;
    await this.driver.write(`DELETE FROM ${this.table} WHERE id = ${p(1)} RETURNING id`, [id], []);
  }

  async expire(cutoff: string): Promise<number> {
    const p = this.driver.placeholder;
    const rows = await this.driver.write(
      `DELETE FROM ${this.table} WHERE last_used_at < ${p(1)} RETURNING id`,
      [cutoff],
      [],
    );
    return rows.length;
  }
}
