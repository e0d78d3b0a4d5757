/**
 * The lease an instance holds on a session while it works on it: while it analyses a request and
 * while it executes it.
 *
 * A session in `executing` names its owner. Every write to the session stamps `updatedAt`, so the
 * stamp is the lease: the owner renews it every third of the lease while it works (also during the
 * verification window, when nothing else is written), and another instance may take the session
 * over — restore the persisted snapshots — only once the stamp is older than the whole lease. A
 * replica starting next to a live one therefore never rolls back the live one's change.
 *
 * All writes of the owner go through `write`, one at a time, so the renewals and the progress
 * updates never race on the session's version.
 */
import type { AuditEntry } from '../audit/recorder.js';
import type { OutcomeRecord } from '../learning/history.js';
import { KubemendError } from '../domain/index.js';
import type { SessionChanges, SessionRecord, SessionState, SessionStore } from '../sessions/store.js';

/**
 * The owner a session is left with when its instance stops before the execution ends (graceful
 * shutdown): no live owner, so the next reconciliation anywhere takes it over without waiting for
 * the lease to lapse.
 */
export const HANDED_OVER_PREFIX = 'handed-over:';

export class ExecutionLease {
  private current: SessionRecord;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private failure: unknown;

  constructor(
    private readonly store: SessionStore,
    session: SessionRecord,
    leaseMs: number,
  ) {
    this.current = session;
    this.timer = setInterval(
      () => {
        void this.write({}).catch((error: unknown) => {
          // Lost (another instance took the session over) or the store is down: remembered, and
          // the next progress write fails with it.
          this.failure ??= error;
        });
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    this.timer.unref();
  }

  get session(): SessionRecord {
    return this.current;
  }

  /**
   * Writes `changes` (with `audit`, its audit records, and `outcomes`, outcome history records, in
   * the same transaction) after every earlier write, against the latest version.
   */
  write(
    changes: SessionChanges,
    audit?: readonly AuditEntry[],
    outcomes?: readonly OutcomeRecord[],
  ): Promise<SessionRecord> {
    return this.enqueue(() =>
      this.store.update(this.current.id, this.current.version, changes, {
        ...(audit ? { audit } : {}),
        ...(outcomes && outcomes.length > 0 ? { outcomes } : {}),
      }),
    );
  }

  /** Moves the session from one of `from` to `to` (with its audit records), after earlier writes. */
  transition(
    from: readonly SessionState[],
    to: SessionState,
    changes: SessionChanges,
    audit: readonly AuditEntry[],
  ): Promise<SessionRecord> {
    return this.enqueue(async () => {
      const moved = await this.store.transition(this.current.id, from, to, changes, { audit });
      if (!moved)
        throw new KubemendError('session-state', `session ${this.current.id} changed while it was worked on`);
      return moved;
    });
  }

  private enqueue(write: () => Promise<SessionRecord>): Promise<SessionRecord> {
    const next = this.queue.then(async () => {
      if (this.failure !== undefined) throw this.failure;
      this.current = await write();
      return this.current;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Stops renewing; writes already queued still run. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.queue;
  }

  /**
   * This instance is stopping with the execution unfinished: the session is handed over (owner
   * `handed-over:<instance>`) after the writes already queued, and every later write of this
   * execution fails — another instance's reconciliation restores what was applied.
   */
  async handOver(instanceId: string): Promise<void> {
    clearInterval(this.timer);
    await this.write({ owner: `${HANDED_OVER_PREFIX}${instanceId}`, phase: 'handed-over' });
    this.failure ??= new KubemendError(
      'session-conflict',
      `session ${this.current.id} was handed over: this kubemend is stopping`,
    );
  }
}

/**
 * Whether `session` (in `executing`) may be taken over by an instance other than its owner: its
 * owner handed it over when it stopped, or has been silent for the whole lease.
 */
export function leaseExpired(session: SessionRecord, now: number, leaseMs: number): boolean {
  if (session.owner?.startsWith(HANDED_OVER_PREFIX)) return true;
  return Date.parse(session.updatedAt) <= now - leaseMs;
}
