/**
 * What commits together with a session write besides its audit records (`WriteOptions`): the
 * notification outbox rows a state change owes its sinks, and the incident row that binds a
 * firing alert (fingerprint + startsAt) to the session it opened. Both live in the session store's
 * database, so "acknowledged" means "durable": the row exists exactly when the change does.
 *
 * The ports to read and move these rows (`OutboxStore`, `AlertIncidentStore`) are here too, with
 * their in-memory versions; the SQL versions are in `companion-sql.ts`.
 */
import type { AuditEntry } from '../audit/recorder.js';

export const NOTIFICATION_EVENTS = [
  'approval-needed',
  'executing',
  'verified',
  'rolled-back',
  'failed',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** One notification owed to one sink: written with the state change it reports. */
export interface OutboxEntry {
  /** Unique; the receiver's idempotency id (`X-Kubemend-Delivery`, `id` in the document). */
  readonly id: string;
  readonly sessionId: string;
  readonly event: NotificationEvent;
  readonly sink: string;
  readonly createdAt: string;
}

export interface OutboxMessage extends OutboxEntry {
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly deliveredAt?: string;
  readonly deadAt?: string;
  readonly lastError?: string;
}

export interface OutboxBacklog {
  /** Messages neither delivered nor given up. */
  readonly waiting: number;
  /** Messages given up after their retries. */
  readonly dead: number;
  /** When the oldest waiting message was written. */
  readonly oldestWaitingAt?: string;
}

export interface OutboxStore {
  /**
   * Claims up to `limit` messages that are due and not claimed by a live lease, for `owner` until
   * `until` (each claim counts an attempt). A message is claimed by one owner at a time, across
   * processes and replicas.
   */
  claim(owner: string, now: string, until: string, limit: number): Promise<OutboxMessage[]>;
  /** Marks a claimed message delivered (only by its owner). */
  delivered(id: string, owner: string, at: string): Promise<boolean>;
  /** Gives a claimed message back for a later attempt — or ends it (`dead`) when retries are spent. */
  retry(id: string, owner: string, next: { at: string; error: string; dead: boolean }): Promise<boolean>;
  /** Every message of a session (tests, the session view). */
  forSession(sessionId: string): Promise<OutboxMessage[]>;
  /** What waits for delivery and what was given up (metrics). */
  backlog(): Promise<OutboxBacklog>;
}

/** The incident row of a firing alert, written with the session it opens. */
export interface AlertIncidentEntry {
  readonly fingerprint: string;
  readonly startsAt: string;
  readonly sessionId: string;
  readonly alertname: string;
  readonly receivedAt: string;
}

export const ALERT_RESOLUTIONS = ['after-fix', 'on-its-own'] as const;
export type AlertResolution = (typeof ALERT_RESOLUTIONS)[number];

export interface AlertIncident extends AlertIncidentEntry {
  readonly lastSeenAt: string;
  /** Firing notifications received for the incident (the first included). */
  readonly notifications: number;
  readonly resolvedAt?: string;
  readonly resolution?: AlertResolution;
}

export interface AlertIncidentStore {
  find(fingerprint: string, startsAt: string): Promise<AlertIncident | undefined>;
  ofSession(sessionId: string): Promise<AlertIncident | undefined>;
  /** A repeated firing notification: counted, with its audit records, in one transaction. */
  repeated(
    fingerprint: string,
    startsAt: string,
    at: string,
    audit: readonly AuditEntry[],
  ): Promise<AlertIncident | undefined>;
  /** The first `resolved` notification: recorded once (later ones change nothing, return undefined). */
  resolved(
    fingerprint: string,
    startsAt: string,
    resolution: { at: string; resolution: AlertResolution },
    audit: readonly AuditEntry[],
  ): Promise<AlertIncident | undefined>;
}

/** The outbox and incident rows of the in-memory store (applied with the change they go with). */
export class InMemoryCompanions implements OutboxStore, AlertIncidentStore {
  private readonly messages = new Map<string, OutboxMessage & { claimedBy?: string; claimUntil?: string }>();
  private readonly incidents = new Map<string, AlertIncident>();

  constructor(private readonly append: (entries: readonly AuditEntry[]) => void) {}

  /** Checks that the rows can be written (throws on a duplicate incident), before anything is applied. */
  check(alert: AlertIncidentEntry | undefined): void {
    if (alert && this.incidents.has(key(alert.fingerprint, alert.startsAt)))
      throw new Error(`alert incident ${alert.fingerprint}@${alert.startsAt} exists`);
  }

  apply(outbox: readonly OutboxEntry[] = [], alert?: AlertIncidentEntry): void {
    for (const entry of outbox) {
      const duplicate = [...this.messages.values()].some(
        (m) => m.sessionId === entry.sessionId && m.event === entry.event && m.sink === entry.sink,
      );
      if (!duplicate) this.messages.set(entry.id, { ...entry, attempts: 0, nextAttemptAt: entry.createdAt });
    }
    if (alert)
      this.incidents.set(key(alert.fingerprint, alert.startsAt), {
        ...alert,
        lastSeenAt: alert.receivedAt,
        notifications: 1,
      });
  }

  async claim(owner: string, now: string, until: string, limit: number): Promise<OutboxMessage[]> {
    const due = [...this.messages.values()]
      .filter(
        (m) =>
          !m.deliveredAt &&
          !m.deadAt &&
          m.nextAttemptAt <= now &&
          (m.claimUntil === undefined || m.claimUntil < now),
      )
      .slice(0, limit);
    for (const m of due) {
      const claimed = { ...m, claimedBy: owner, claimUntil: until, attempts: m.attempts + 1 };
      this.messages.set(m.id, claimed);
    }
    return due.map((m) => ({ ...this.messages.get(m.id)! }));
  }

  async delivered(id: string, owner: string, at: string): Promise<boolean> {
    const m = this.messages.get(id);
    if (m?.claimedBy !== owner) return false;
    this.messages.set(id, { ...m, deliveredAt: at, claimedBy: undefined, claimUntil: undefined });
    return true;
  }

  async retry(
    id: string,
    owner: string,
    next: { at: string; error: string; dead: boolean },
  ): Promise<boolean> {
    const m = this.messages.get(id);
    if (m?.claimedBy !== owner) return false;
    this.messages.set(id, {
      ...m,
      nextAttemptAt: next.at,
      lastError: next.error,
      ...(next.dead ? { deadAt: next.at } : {}),
      claimedBy: undefined,
      claimUntil: undefined,
    });
    return true;
  }

  async forSession(sessionId: string): Promise<OutboxMessage[]> {
    return [...this.messages.values()].filter((m) => m.sessionId === sessionId).map((m) => ({ ...m }));
  }

  async backlog(): Promise<OutboxBacklog> {
    const all = [...this.messages.values()];
    const waiting = all
      .filter((m) => !m.deliveredAt && !m.deadAt)
      .map((m) => m.createdAt)
      .sort();
    return {
      waiting: waiting.length,
      dead: all.filter((m) => m.deadAt).length,
      ...(waiting[0] !== undefined ? { oldestWaitingAt: waiting[0] } : {}),
    };
  }

  async find(fingerprint: string, startsAt: string): Promise<AlertIncident | undefined> {
    return this.incidents.get(key(fingerprint, startsAt));
  }

  async ofSession(sessionId: string): Promise<AlertIncident | undefined> {
    return [...this.incidents.values()].find((i) => i.sessionId === sessionId);
  }

  async repeated(
    fingerprint: string,
    startsAt: string,
    at: string,
    audit: readonly AuditEntry[],
  ): Promise<AlertIncident | undefined> {
    const current = this.incidents.get(key(fingerprint, startsAt));
    if (!current) return undefined;
    this.append(audit);
    const next = { ...current, lastSeenAt: at, notifications: current.notifications + 1 };
    this.incidents.set(key(fingerprint, startsAt), next);
    return next;
  }

  async resolved(
    fingerprint: string,
    startsAt: string,
    resolution: { at: string; resolution: AlertResolution },
    audit: readonly AuditEntry[],
  ): Promise<AlertIncident | undefined> {
    const current = this.incidents.get(key(fingerprint, startsAt));
    if (!current || current.resolvedAt !== undefined) return undefined;
    this.append(audit);
    const next = { ...current, resolvedAt: resolution.at, resolution: resolution.resolution };
    this.incidents.set(key(fingerprint, startsAt), next);
    return next;
  }
}

const key = (fingerprint: string, startsAt: string) => `${fingerprint}@${startsAt}`;
