/**
 * The bounded, fair queue of asynchronous remediations (`Prefer: respond-async`,
 * `server.asyncQueue`): `concurrency` run at once; waiting plus running are bounded in all
 * (`capacity`, beyond it `queue-full`, 503) and per caller (`perCaller`, beyond it `rate-limited`,
 * 429) — back-pressure the caller sees before anything is stored. Callers take turns (start-time
 * fair queuing): the next job to start is the oldest of the caller that has been served least, a
 * caller that joins counts from the present, not from zero. So a caller with a hundred jobs waiting
 * delays another caller's single job by at most one job, and a newcomer cannot starve an old one.
 */
import { KubemendError } from '../domain/index.js';

export interface WorkQueueLimits {
  readonly concurrency: number;
  readonly capacity: number;
  readonly perCaller: number;
}

/** A place in the queue, taken before the work exists (so a refusal changes nothing). */
export interface Ticket {
  readonly caller: string;
  /** Gives the place back unused (the work could not be created). */
  cancel(): void;
}

class Place implements Ticket {
  private state: 'held' | 'used' | 'cancelled' = 'held';

  constructor(
    readonly caller: string,
    private readonly onCancel: () => void,
  ) {}

  cancel(): void {
    if (this.state !== 'held') return;
    this.state = 'cancelled';
    this.onCancel();
  }

  use(): boolean {
    if (this.state !== 'held') return false;
    this.state = 'used';
    return true;
  }
}

export interface Job {
  readonly start: () => Promise<void>;
  /** Called instead of `start` when the job is dropped before it started (shutdown). */
  readonly abandon: () => Promise<void>;
}

export class WorkQueue {
  private running = 0;
  private reserved = 0;
  /** Jobs waiting, per caller, in arrival order; the map's order is the turn order. */
  private readonly waiting = new Map<string, Job[]>();
  /** Waiting plus running (plus reserved) per caller. */
  private readonly perCaller = new Map<string, number>();
  /** Jobs started per caller, counted from when it joined (`virtualTime` then). */
  private readonly served = new Map<string, number>();
  /** The served count of the caller whose job started last: the present, for a caller joining. */
  private virtualTime = 0;
  private readonly idle = new Set<() => void>();
  private closed = false;

  constructor(private readonly limits: WorkQueueLimits) {}

  /** Jobs accepted and not finished (waiting, running, or reserved). */
  get size(): number {
    let waiting = 0;
    for (const jobs of this.waiting.values()) waiting += jobs.length;
    return this.reserved + this.running + waiting;
  }

  /** Takes a place for `caller`, or refuses: `shutting-down`, `queue-full`, `rate-limited`. */
  reserve(caller: string): Ticket {
    if (this.closed)
      throw new KubemendError(
        'shutting-down',
        'this kubemend is stopping and starts no new asynchronous work',
      );
    const own = this.perCaller.get(caller) ?? 0;
    if (own >= this.limits.perCaller)
      throw new KubemendError(
        'rate-limited',
        `${caller} has ${own} asynchronous remediations waiting or running, its share of the queue (server.asyncQueue.perCaller); wait for some to finish`,
      );
    if (this.size >= this.limits.capacity)
      throw new KubemendError(
        'queue-full',
        `${this.size} asynchronous remediations are waiting or running, the queue's capacity (server.asyncQueue.capacity); try again later`,
      );
    this.perCaller.set(caller, own + 1);
    this.reserved++;
    return new Place(caller, () => {
      this.reserved--;
      this.release(caller);
    });
  }

  /** Queues `job` on the place `ticket` holds; it starts when a slot and the caller's turn come. */
  run(ticket: Ticket, job: Job): void {
    if (!(ticket instanceof Place) || !ticket.use()) throw new Error('a ticket of this queue, used once');
    this.reserved--;
    const jobs = this.waiting.get(ticket.caller);
    if (jobs) jobs.push(job);
    else {
      this.waiting.set(ticket.caller, [job]);
      this.served.set(ticket.caller, Math.max(this.served.get(ticket.caller) ?? 0, this.virtualTime));
    }
    this.dispatch();
  }

  /** Starts no new work from now on (`reserve` refuses with `shutting-down`). */
  close(): void {
    this.closed = true;
  }

  /** Resolves when nothing is waiting or running, or after `timeoutMs`; true when it emptied. */
  async settled(timeoutMs: number): Promise<boolean> {
    if (this.running === 0 && this.waiting.size === 0) return true;
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.idle.delete(onIdle);
        resolve(value);
      };
      const onIdle = () => done(true);
      const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
      this.idle.add(onIdle);
    });
  }

  /** Drops every job not yet started, each told so (`abandon`); returns how many. */
  async discardWaiting(): Promise<number> {
    const dropped: Job[] = [];
    for (const [caller, jobs] of this.waiting) {
      for (const job of jobs) {
        this.release(caller);
        dropped.push(job);
      }
    }
    this.waiting.clear();
    await Promise.all(dropped.map((job) => job.abandon().catch(() => undefined)));
    this.notifyIfIdle();
    return dropped.length;
  }

  private dispatch(): void {
    while (this.running < this.limits.concurrency && this.waiting.size > 0) {
      // The caller served least goes next; ties in the order callers started waiting.
      let caller = '';
      let least = Number.POSITIVE_INFINITY;
      for (const candidate of this.waiting.keys()) {
        const served = this.served.get(candidate) ?? 0;
        if (served < least) {
          least = served;
          caller = candidate;
        }
      }
      const jobs = this.waiting.get(caller)!;
      const job = jobs.shift()!;
      if (jobs.length === 0) this.waiting.delete(caller);
      this.virtualTime = least;
      this.served.set(caller, least + 1);
      this.running++;
      void job
        .start()
        .catch(() => undefined)
        .finally(() => {
          this.running--;
          this.release(caller);
          this.dispatch();
          this.notifyIfIdle();
        });
    }
  }

  private release(caller: string): void {
    const left = (this.perCaller.get(caller) ?? 1) - 1;
    if (left > 0) this.perCaller.set(caller, left);
    else {
      // Nothing of this caller's left: it rejoins at the present (its count is forgotten).
      this.perCaller.delete(caller);
      this.served.delete(caller);
    }
  }

  private notifyIfIdle(): void {
    if (this.running > 0 || this.waiting.size > 0) return;
    for (const resolve of [...this.idle]) resolve();
  }
}
