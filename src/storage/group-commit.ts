/** Group commit, shared by the SQLite and PostgreSQL stores. */

/** Units a group commit takes at most (a bound on how long one transaction holds the lock). */
export const MAX_BATCH = 512;

export type Outcome<R = unknown> =
  { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

/**
 * Group commit. Every write of the process — a session change with its audit records, an audit
 * append, a lease renewal — is a unit. Units submitted during one turn of the event loop go to
 * `runBatch` together: one transaction, one commit (SQLite: `batchRunner`, here or on a writer thread;
 * PostgreSQL: `PostgresWriteQueue`). A unit's promise settles only after its batch has committed (or
 * failed): nothing is acknowledged before it is durable. Units run in submission order, so audit
 * records keep the order their writers asked for.
 */
export class GroupCommitQueue<U, R> {
  private pending: Array<{
    readonly unit: U;
    readonly resolve: (value: R) => void;
    readonly reject: (error: unknown) => void;
  }> = [];
  private scheduled = false;
  /** A batch is being committed: units submitted meanwhile wait and go together in the next one. */
  private committing = false;

  constructor(private readonly runBatch: (units: readonly U[]) => Outcome<R>[] | Promise<Outcome<R>[]>) {}

  /** Runs `unit` in the next group commit; resolves with its value once that has committed. */
  run(unit: U): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ unit, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.committing) return; // the batch under way schedules the next flush when it ends
    const taken = this.pending.splice(0, MAX_BATCH);
    if (taken.length === 0) return;
    this.committing = true;
    let outcomes: Outcome<R>[] | undefined;
    let failure: unknown;
    try {
      outcomes = await this.runBatch(taken.map((entry) => entry.unit));
    } catch (error) {
      // BEGIN or COMMIT failed (locked past the busy timeout, disk full): nothing was written.
      failure = error;
    } finally {
      this.committing = false;
      if (this.pending.length > 0 && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    }
    taken.forEach((entry, index) => {
      const outcome = outcomes?.[index];
      if (outcome === undefined) entry.reject(failure);
      else if (outcome.ok) entry.resolve(outcome.value);
      else entry.reject(outcome.error);
    });
  }
}
