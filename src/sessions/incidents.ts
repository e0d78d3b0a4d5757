/**
 * Incidents of the watcher (`kubemend watch`): one row per (cluster, workload, signal) holding the
 * session opened for it. The row is the durable dedup: a crash-looping pod, an API server restart
 * that replays every failing pod, a kubemend restart, or a second replica all find the open row and
 * open nothing. A new session for the same key only after the row was closed (its session ended or
 * the workload recovered) and the cooldown has passed. `claim` is one atomic statement in SQLite and
 * PostgreSQL (INSERT … ON CONFLICT DO UPDATE … WHERE closed long enough ago … RETURNING).
 */
export interface IncidentKey {
  readonly cluster: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** The signal class (`CrashLoop`, `ImagePull`, `Unschedulable`, `RolloutStuck`, …). */
  readonly signal: string;
}

export interface Incident extends IncidentKey {
  readonly sessionId: string;
  /** When the session was claimed (epoch ms). */
  readonly openedAt: number;
  /** When the signal was first seen (the status or event timestamp; epoch ms). */
  readonly signalAt: number;
  /** Absent while the incident is open. */
  readonly closedAt?: number;
}

export interface ClaimResult {
  /** True: this call opened the incident and must create `sessionId`'s session. */
  readonly claimed: boolean;
  readonly incident: Incident;
}

export interface IncidentStore {
  /**
   * Opens the incident for `key` with `sessionId` unless one is open, or one closed less than
   * `cooldownMs` before `now`. Atomic: of concurrent claims exactly one gets `claimed: true`.
   */
  claim(
    key: IncidentKey,
    sessionId: string,
    now: number,
    signalAt: number,
    cooldownMs: number,
  ): Promise<ClaimResult>;
  /** Closes the open incident of `key` (no-op when none is open). */
  close(key: IncidentKey, now: number): Promise<void>;
  /** Open incidents of a cluster (and namespace). */
  listOpen(cluster: string, namespace?: string): Promise<Incident[]>;
  /** Releases the store's own connection, if it has one. */
  dispose?(): Promise<void>;
}

export function incidentKeyString(key: IncidentKey): string {
  return `${key.cluster}|${key.kind}|${key.namespace}|${key.name}|${key.signal}`;
}

export class InMemoryIncidentStore implements IncidentStore {
  private readonly rows = new Map<string, Incident>();

  async claim(
    key: IncidentKey,
    sessionId: string,
    now: number,
    signalAt: number,
    cooldownMs: number,
  ): Promise<ClaimResult> {
    const id = incidentKeyString(key);
    const existing = this.rows.get(id);
    if (existing && (existing.closedAt === undefined || existing.closedAt > now - cooldownMs))
      return { claimed: false, incident: existing };
    const incident: Incident = { ...pick(key), sessionId, openedAt: now, signalAt };
    this.rows.set(id, incident);
    return { claimed: true, incident };
  }

  async close(key: IncidentKey, now: number): Promise<void> {
    const id = incidentKeyString(key);
    const existing = this.rows.get(id);
    if (existing && existing.closedAt === undefined) this.rows.set(id, { ...existing, closedAt: now });
  }

  async listOpen(cluster: string, namespace?: string): Promise<Incident[]> {
    return [...this.rows.values()].filter(
      (row) =>
        row.closedAt === undefined &&
        row.cluster === cluster &&
        (namespace === undefined || row.namespace === namespace),
    );
  }

  /** Every row (tests). */
  all(): Incident[] {
    return [...this.rows.values()];
  }
}

export function pick(key: IncidentKey): IncidentKey {
  return {
    cluster: key.cluster,
    kind: key.kind,
    namespace: key.namespace,
    name: key.name,
    signal: key.signal,
  };
}

/** A row as both SQL stores return it. */
export function incidentFromRow(row: Record<string, unknown>): Incident {
  const closed = row.closed_at;
  return {
    cluster: String(row.cluster),
    kind: String(row.kind),
    namespace: String(row.namespace),
    name: String(row.name),
    signal: String(row.signal),
    sessionId: String(row.session_id),
    openedAt: Number(row.opened_at),
    signalAt: Number(row.signal_at),
    ...(closed === null || closed === undefined ? {} : { closedAt: Number(closed) }),
  };
}

/** The table, the same in both dialects (times are epoch milliseconds). */
export const INCIDENTS_TABLE = (table: string, integer: string) => `
  CREATE TABLE ${table} (
    cluster    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    namespace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    signal     TEXT NOT NULL,
    session_id TEXT NOT NULL,
    opened_at  ${integer} NOT NULL,
    signal_at  ${integer} NOT NULL,
    closed_at  ${integer},
    PRIMARY KEY (cluster, kind, namespace, name, signal)
  );
  CREATE INDEX ${table.replace(/.*\./, '').replace(/"/g, '')}_open ON ${table} (cluster, namespace) WHERE closed_at IS NULL;
`;

/**
 * The atomic claim: insert, or take over a row closed at least `cooldown` ago; nothing when one is
 * open or cooling down. `RETURNING` gives a row only when this statement wrote it.
 */
export const CLAIM_SQL = (table: string, p: (n: number) => string) => `
  INSERT INTO ${table} AS existing (cluster, kind, namespace, name, signal, session_id, opened_at, signal_at, closed_at)
  VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, NULL)
  ON CONFLICT (cluster, kind, namespace, name, signal) DO UPDATE
    SET session_id = excluded.session_id, opened_at = excluded.opened_at,
        signal_at = excluded.signal_at, closed_at = NULL
    WHERE existing.closed_at IS NOT NULL AND existing.closed_at <= ${p(9)}
  RETURNING *`;

export const SELECT_SQL = (table: string, p: (n: number) => string) =>
  `SELECT * FROM ${table} WHERE cluster = ${p(1)} AND kind = ${p(2)} AND namespace = ${p(3)} AND name = ${p(4)} AND signal = ${p(5)}`;

export const CLOSE_SQL = (table: string, p: (n: number) => string) =>
  `UPDATE ${table} SET closed_at = ${p(6)} WHERE cluster = ${p(1)} AND kind = ${p(2)} AND namespace = ${p(3)} AND name = ${p(4)} AND signal = ${p(5)} AND closed_at IS NULL`;

export const LIST_OPEN_SQL = (table: string, p: (n: number) => string, withNamespace: boolean) =>
  `SELECT * FROM ${table} WHERE cluster = ${p(1)} AND closed_at IS NULL${withNamespace ? ` AND namespace = ${p(2)}` : ''} ORDER BY opened_at`;

export function keyParams(key: IncidentKey): [string, string, string, string, string] {
  return [key.cluster, key.kind, key.namespace, key.name, key.signal];
}
