/**
 * An informer over the ClusterGateway port: LIST (paginated) then WATCH from the list's
 * resourceVersion, for one kind in one namespace (or the cluster). ADR 0037.
 *
 * - resume: a watch that ends (the server's timeout, a dropped connection, an API server restart)
 *   is started again from the last resourceVersion seen (BOOKMARKs keep it fresh), so nothing is
 *   missed and nothing is seen twice;
 * - 410 Gone (the version was compacted away, at once or as an ERROR event): LIST again, and every
 *   object the new list no longer holds is reported deleted;
 * - errors: exponential back-off with decorrelated jitter (cockatiel), reset by the next success;
 *   a watch that stays silent longer than its timeout plus a grace is abandoned and resumed;
 * - bounded memory: the store keeps what `project` returns — the few fields the caller needs —
 *   never the objects; pages are projected as they arrive.
 */
import { ExponentialBackoff, type IBackoff, type IBackoffFactory } from 'cockatiel';
import { isApiError } from './errors.js';
import type { ClusterGateway, KubeObject, WatchEvent } from './gateway.js';

export interface InformerChange<T> {
  readonly type: 'upsert' | 'delete';
  /** `namespace/name` (or `name` for a cluster-scoped kind). */
  readonly key: string;
  /** The projection now (absent for a delete). */
  readonly value?: T;
  /** The projection before this change, if one was stored. */
  readonly previous?: T;
  /** True while a (re-)list replays the current state; false for a watch event. */
  readonly fromList: boolean;
}

export interface InformerOptions<T> {
  readonly kind: string;
  /** Absent: across the cluster. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** What to keep of an object; undefined keeps nothing (and forgets a stored projection). */
  project(object: KubeObject): T | undefined;
  /** Every change, after the store has it. Must not throw (a throw is reported as an error). */
  onChange?(change: InformerChange<T>): void;
  /** After each (re-)list has been applied. */
  onSynced?(): void;
  /** A failed LIST or WATCH, and how long the informer waits before trying again. */
  onError?(error: unknown, retryInMs: number): void;
  /** Items per LIST page (default 500). */
  readonly pageSize?: number;
  /** The server ends each watch after about this long (default 300 s, jittered by up to a tenth). */
  readonly watchTimeoutSeconds?: number;
  /** Back-off between failed attempts (default: exponential 250 ms … 30 s, decorrelated jitter). */
  readonly backoff?: IBackoffFactory<unknown>;
  /** Keep no store (events: each is handled once and forgotten). Deletes are then not reported. */
  readonly stateless?: boolean;
  readonly random?: () => number;
}

export interface InformerStats {
  lists: number;
  watches: number;
  /** Lists caused by 410 Gone. */
  relists: number;
  errors: number;
  events: number;
}

/** A resourceVersion the server no longer has: list again. */
class Gone extends Error {}

const DEFAULT_BACKOFF = new ExponentialBackoff({ initialDelay: 250, maxDelay: 30_000 });

export class Informer<T> {
  private readonly store = new Map<string, T>();
  private resourceVersion: string | undefined;
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private wasSynced = false;
  readonly stats: InformerStats = { lists: 0, watches: 0, relists: 0, errors: 0, events: 0 };

  constructor(
    private readonly gateway: ClusterGateway,
    private readonly options: InformerOptions<T>,
  ) {}

  /** Starts the loop (idempotent); it runs until `stop()`. */
  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  /** True once the first list has been applied. */
  get synced(): boolean {
    return this.wasSynced;
  }

  /** The last resourceVersion seen (a list's, a watch event's or a bookmark's). */
  get version(): string | undefined {
    return this.resourceVersion;
  }

  get size(): number {
    return this.store.size;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  entries(): IterableIterator<[string, T]> {
    return this.store.entries();
  }

  private async loop(): Promise<void> {
    let backoff: IBackoff<unknown> | undefined;
    let goneInARow = 0;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.list();
        if (!(await this.watchOnce())) throw new Error(`watch ${this.options.kind}: ended at once`);
        backoff = undefined;
        goneInARow = 0;
      } catch (error) {
        if (signal.aborted) break;
        const gone = error instanceof Gone || (isApiError(error) && error.status === 410);
        if (gone) {
          this.resourceVersion = undefined;
          this.stats.relists++;
          // Once: list again at once. A server that keeps answering 410 is backed off like an error.
          if (++goneInARow === 1) continue;
        }
        this.stats.errors++;
        backoff = (backoff ?? this.options.backoff ?? DEFAULT_BACKOFF).next(undefined);
        this.options.onError?.(error, backoff.duration);
        await pause(backoff.duration, signal);
      }
    }
  }

  /** One paginated LIST: replay what is there, report what is gone, remember the version. */
  private async list(): Promise<void> {
    this.stats.lists++;
    const seen = new Set<string>();
    let token: string | undefined;
    let version: string | undefined;
    do {
      const page = await this.gateway.listPage(this.options.kind, this.options.namespace, {
        limit: this.options.pageSize ?? 500,
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
        continue: token,
      });
      version ??= page.resourceVersion;
      for (const object of page.items) {
        const key = keyOf(object);
        seen.add(key);
        this.apply(key, object, true);
      }
      token = page.continue;
    } while (token !== undefined && !this.stopping.signal.aborted);
    if (!this.options.stateless)
      for (const [key, previous] of [...this.store.entries()])
        if (!seen.has(key)) {
          this.store.delete(key);
          this.emit({ type: 'delete', key, previous, fromList: true });
        }
    this.resourceVersion = version ?? '0';
    this.wasSynced = true;
    this.options.onSynced?.();
  }

  /**
   * One WATCH from the current version. True when it delivered something or ran a while before it
   * ended; false when it ended at once with nothing (a server going away): that backs off.
   */
  private async watchOnce(): Promise<boolean> {
    this.stats.watches++;
    const started = Date.now();
    const timeout = this.options.watchTimeoutSeconds ?? 300;
    const random = this.options.random ?? Math.random;
    const timeoutSeconds = Math.max(1, Math.round(timeout * (1 + random() / 10)));
    const controller = new AbortController();
    const onStop = () => controller.abort();
    this.stopping.signal.addEventListener('abort', onStop, { once: true });
    // A watch silent for longer than the server's own timeout is a dead connection: resume it.
    const idleMs = (timeoutSeconds + 30) * 1_000;
    let idle = setTimeout(() => controller.abort(), idleMs);
    let gone = false;
    let failure: unknown;
    let delivered = false;
    const onEvent = (event: WatchEvent): void => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(), idleMs);
      if (event.type === 'ERROR') {
        const status = event.object as { code?: number; message?: string };
        if (status.code === 410) gone = true;
        else failure = new Error(`watch ${this.options.kind}: ${status.message ?? 'error event'}`);
        controller.abort();
        return;
      }
      const version = event.object.metadata?.resourceVersion;
      if (event.type === 'BOOKMARK') {
        if (version) this.resourceVersion = version;
        return;
      }
      delivered = true;
      this.stats.events++;
      const key = keyOf(event.object);
      if (event.type === 'DELETED') {
        const previous = this.store.get(key);
        this.store.delete(key);
        if (previous !== undefined || this.options.stateless)
          this.emit({ type: 'delete', key, previous, fromList: false });
      } else this.apply(key, event.object, false);
      if (version) this.resourceVersion = version;
    };
    try {
      await this.gateway.watch(
        this.options.kind,
        this.options.namespace,
        {
          resourceVersion: this.resourceVersion,
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
          timeoutSeconds,
        },
        onEvent,
        controller.signal,
      );
    } finally {
      clearTimeout(idle);
      this.stopping.signal.removeEventListener('abort', onStop);
    }
    if (gone) throw new Gone(`${this.options.kind}: resourceVersion ${this.resourceVersion} is gone`);
    if (failure) throw failure;
    if (this.stopping.signal.aborted) return true;
    return delivered || (!controller.signal.aborted && Date.now() - started >= 1_000);
  }

  private apply(key: string, object: KubeObject, fromList: boolean): void {
    const value = this.options.project(object);
    const previous = this.store.get(key);
    if (this.options.stateless) {
      if (value !== undefined) this.emit({ type: 'upsert', key, value, fromList });
      return;
    }
    if (value === undefined) {
      if (previous === undefined) return;
      this.store.delete(key);
      this.emit({ type: 'delete', key, previous, fromList });
      return;
    }
    this.store.set(key, value);
    this.emit({ type: 'upsert', key, value, previous, fromList });
  }

  private emit(change: InformerChange<T>): void {
    try {
      this.options.onChange?.(change);
    } catch (error) {
      this.stats.errors++;
      this.options.onError?.(error, 0);
    }
  }
}

export function keyOf(object: KubeObject): string {
  const name = object.metadata?.name ?? '';
  return object.metadata?.namespace ? `${object.metadata.namespace}/${name}` : name;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
