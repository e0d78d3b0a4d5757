/**
 * The outbox and alert-incident tables on SQLite and PostgreSQL: their migrations (components of
 * their own, `notifications` and `alerts`, numbered independently of `sessions`), the INSERTs a
 * session write carries (`rowsFor`), and the SQL `OutboxStore` and `AlertIncidentStore`.
 *
 * Timestamps are ISO-8601 UTC text in both databases (`toISOString`), so they compare as text.
 * A claim is one `UPDATE ... WHERE id IN (due) AND (not claimed or claim lapsed) RETURNING *`: the
 * outer condition is re-checked under the row lock (PostgreSQL re-evaluates it after a concurrent
 * update; SQLite runs writers one at a time), so two owners never hold the same message.
 */
import type { AuditEntry } from '../audit/recorder.js';
import type { Migration } from '../storage/migrations.js';
import {
  type AlertIncident,
  type AlertIncidentEntry,
  type AlertIncidentStore,
  type AlertResolution,
  type NotificationEvent,
  type OutboxBacklog,
  type OutboxEntry,
  type OutboxMessage,
  type OutboxStore,
} from './companions.js';

type Row = Record<string, unknown>;

export interface CompanionStatement {
  readonly sql: string;
  readonly values: readonly unknown[];
}

export interface CompanionDriver {
  /** Qualifies a table name (`schema.table` on PostgreSQL). */
  table(name: string): string;
  placeholder(n: number): string;
  /** `FOR UPDATE SKIP LOCKED` on PostgreSQL, nothing on SQLite. */
  readonly skipLocked: string;
  read(sql: string, values: readonly unknown[]): Promise<Row[]>;
  /** One statement in its own transaction (a unit of the write queue), with audit records if it returned a row. */
  write(sql: string, values: readonly unknown[], audit: readonly AuditEntry[]): Promise<Row[]>;
}

/** Migrations of the two components; `t` qualifies a table name. */
export function companionMigrations(t: (name: string) => string): {
  notifications: readonly Migration[];
  alerts: readonly Migration[];
} {
  return {
    notifications: [
      {
        version: 1,
        name: 'create the notification outbox',
        sql: `
          CREATE TABLE ${t('notification_outbox')} (
            id              TEXT    NOT NULL PRIMARY KEY,
            session_id      TEXT    NOT NULL,
            event           TEXT    NOT NULL,
            sink            TEXT    NOT NULL,
            created_at      TEXT    NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT    NOT NULL,
            claimed_by      TEXT,
            claim_until     TEXT,
            delivered_at    TEXT,
            dead_at         TEXT,
            last_error      TEXT,
            CONSTRAINT notification_outbox_once UNIQUE (session_id, event, sink)
          );
          CREATE INDEX notification_outbox_due ON ${t('notification_outbox')} (next_attempt_at)
            WHERE delivered_at IS NULL AND dead_at IS NULL;
        `,
      },
    ],
    alerts: [
      {
        version: 1,
        name: 'create alert incidents',
        sql: `
          CREATE TABLE ${t('alert_incidents')} (
            fingerprint   TEXT    NOT NULL,
            starts_at     TEXT    NOT NULL,
            session_id    TEXT    NOT NULL,
            alertname     TEXT    NOT NULL,
            received_at   TEXT    NOT NULL,
            last_seen_at  TEXT    NOT NULL,
            notifications INTEGER NOT NULL,
            resolved_at   TEXT,
            resolution    TEXT,
            CONSTRAINT alert_incidents_pkey PRIMARY KEY (fingerprint, starts_at)
          );
          CREATE INDEX alert_incidents_session ON ${t('alert_incidents')} (session_id);
        `,
      },
    ],
  };
}

/** The INSERTs that go with a session write. */
export function companionRows(
  driver: Pick<CompanionDriver, 'table' | 'placeholder'>,
  outbox: readonly OutboxEntry[] = [],
  alert?: AlertIncidentEntry,
): CompanionStatement[] {
  const p = driver.placeholder;
  const list = (n: number) => Array.from({ length: n }, (_, i) => p(i + 1)).join(', ');
  const out: CompanionStatement[] = outbox.map((entry) => ({
    sql:
      `INSERT INTO ${driver.table('notification_outbox')} (id, session_id, event, sink, created_at, next_attempt_at) ` +
      `VALUES (${list(6)}) ON CONFLICT (session_id, event, sink) DO NOTHING`,
    values: [entry.id, entry.sessionId, entry.event, entry.sink, entry.createdAt, entry.createdAt],
  }));
  if (alert)
    out.push({
      sql:
        `INSERT INTO ${driver.table('alert_incidents')} ` +
        `(fingerprint, starts_at, session_id, alertname, received_at, last_seen_at, notifications) VALUES (${list(7)})`,
      values: [
        alert.fingerprint,
        alert.startsAt,
        alert.sessionId,
        alert.alertname,
        alert.receivedAt,
        alert.receivedAt,
        1,
      ],
    });
  return out;
}

export class SqlCompanions implements OutboxStore, AlertIncidentStore {
  private readonly outbox: string;
  private readonly incidents: string;

  constructor(private readonly driver: CompanionDriver) {
    this.outbox = driver.table('notification_outbox');
    this.incidents = driver.table('alert_incidents');
  }

  async claim(owner: string, now: string, until: string, limit: number): Promise<OutboxMessage[]> {
    const p = this.driver.placeholder;
    // Placeholders are never repeated: SQLite binds `?` by position.
    const free = (n: number) =>
      `delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= ${p(n)} AND (claim_until IS NULL OR claim_until < ${p(n + 1)})`;
    const rows = await this.driver.write(
      `UPDATE ${this.outbox} SET claimed_by = ${p(1)}, claim_until = ${p(2)}, attempts = attempts + 1 ` +
        `WHERE id IN (SELECT id FROM ${this.outbox} WHERE ${free(3)} ORDER BY next_attempt_at LIMIT ${p(5)} ${this.driver.skipLocked}) ` +
        `AND ${free(6)} RETURNING *`,
      [owner, until, now, now, limit, now, now],
      [],
    );
    return rows.map(outboxMessage);
  }

  async delivered(id: string, owner: string, at: string): Promise<boolean> {
    const p = this.driver.placeholder;
    const rows = await this.driver.write(
      `UPDATE ${this.outbox} SET delivered_at = ${p(1)}, claimed_by = NULL, claim_until = NULL ` +
        `WHERE id = ${p(2)} AND claimed_by = ${p(3)} RETURNING id`,
      [at, id, owner],
      [],
    );
    return rows.length > 0;
  }

  async retry(
    id: string,
    owner: string,
    next: { at: string; error: string; dead: boolean },
  ): Promise<boolean> {
    const p = this.driver.placeholder;
    const rows = await this.driver.write(
      `UPDATE ${this.outbox} SET next_attempt_at = ${p(1)}, last_error = ${p(2)}, dead_at = ${p(3)}, ` +
        `claimed_by = NULL, claim_until = NULL WHERE id = ${p(4)} AND claimed_by = ${p(5)} RETURNING id`,
      [next.at, next.error.slice(0, 1000), next.dead ? next.at : null, id, owner],
      [],
    );
    return rows.length > 0;
  }

  async forSession(sessionId: string): Promise<OutboxMessage[]> {
    const rows = await this.driver.read(
      `SELECT * FROM ${this.outbox} WHERE session_id = ${this.driver.placeholder(1)} ORDER BY created_at, id`,
      [sessionId],
    );
    return rows.map(outboxMessage);
  }

  async backlog(): Promise<OutboxBacklog> {
    const waiting = 'delivered_at IS NULL AND dead_at IS NULL';
    const [row] = await this.driver.read(
      `SELECT SUM(CASE WHEN ${waiting} THEN 1 ELSE 0 END) AS waiting, ` +
        `SUM(CASE WHEN dead_at IS NOT NULL THEN 1 ELSE 0 END) AS dead, ` +
        `MIN(CASE WHEN ${waiting} THEN created_at END) AS oldest FROM ${this.outbox}`,
      [],
    );
    const oldest = text(row?.oldest);
    return {
      waiting: Number(row?.waiting ?? 0),
      dead: Number(row?.dead ?? 0),
      ...(oldest !== undefined ? { oldestWaitingAt: oldest } : {}),
    };
  }

  async find(fingerprint: string, startsAt: string): Promise<AlertIncident | undefined> {
    const p = this.driver.placeholder;
    const rows = await this.driver.read(
      `SELECT * FROM ${this.incidents} WHERE fingerprint = ${p(1)} AND starts_at = ${p(2)}`,
      [fingerprint, startsAt],
    );
    return rows[0] && incident(rows[0]);
  }

  async ofSession(sessionId: string): Promise<AlertIncident | undefined> {
    const rows = await this.driver.read(
      `SELECT * FROM ${this.incidents} WHERE session_id = ${this.driver.placeholder(1)}`,
      [sessionId],
    );
    return rows[0] && incident(rows[0]);
  }

  async repeated(
    fingerprint: string,
    startsAt: string,
    at: string,
    audit: readonly AuditEntry[],
  ): Promise<AlertIncident | undefined> {
    const p = this.driver.placeholder;
    const rows = await this.driver.write(
      `UPDATE ${this.incidents} SET notifications = notifications + 1, last_seen_at = ${p(1)} ` +
        `WHERE fingerprint = ${p(2)} AND starts_at = ${p(3)} RETURNING *`,
      [at, fingerprint, startsAt],
      audit,
    );
    return rows[0] && incident(rows[0]);
  }

  async resolved(
    fingerprint: string,
    startsAt: string,
    resolution: { at: string; resolution: AlertResolution },
    audit: readonly AuditEntry[],
  ): Promise<AlertIncident | undefined> {
    const p = this.driver.placeholder;
    const rows = await this.driver.write(
      `UPDATE ${this.incidents} SET resolved_at = ${p(1)}, resolution = ${p(2)} ` +
        `WHERE fingerprint = ${p(3)} AND starts_at = ${p(4)} AND resolved_at IS NULL RETURNING *`,
      [resolution.at, resolution.resolution, fingerprint, startsAt],
      audit,
    );
    return rows[0] && incident(rows[0]);
  }
}

const text = (value: unknown): string | undefined =>
  value === null || value === undefined ? undefined : String(value);

function outboxMessage(row: Row): OutboxMessage {
  return {
    id: String(row.id),
    sessionId: String(row.session_id),
    event: String(row.event) as NotificationEvent,
    sink: String(row.sink),
    createdAt: String(row.created_at),
    attempts: Number(row.attempts),
    nextAttemptAt: String(row.next_attempt_at),
    ...optional('deliveredAt', text(row.delivered_at)),
    ...optional('deadAt', text(row.dead_at)),
    ...optional('lastError', text(row.last_error)),
  };
}

function incident(row: Row): AlertIncident {
  return {
    fingerprint: String(row.fingerprint),
    startsAt: String(row.starts_at),
    sessionId: String(row.session_id),
    alertname: String(row.alertname),
    receivedAt: String(row.received_at),
    lastSeenAt: String(row.last_seen_at),
    notifications: Number(row.notifications),
    ...optional('resolvedAt', text(row.resolved_at)),
    ...optional('resolution', text(row.resolution) as AlertResolution | undefined),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
