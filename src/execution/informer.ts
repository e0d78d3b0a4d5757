/**
 * A small informer: list, then watch from the list's resourceVersion, keeping a local copy of the
 * objects current; a watch the server ends is resumed from the last version seen (bookmarks
 * included), a version the server no longer has (410 Gone) is answered by listing again, and any
 * other failure by listing again after `retryMs`. `onChange` runs synchronously on every change, so
 * whoever judges the objects sees each state as it arrives.
 */
import { isApiError } from '../cluster/errors.js';
import type { ClusterGateway, KubeObject, ListOptions, WatchEvent } from '../cluster/gateway.js';
import { describe } from './describe.js';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface InformerSource {
  readonly kind: string;
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** A watch that ends this soon after it opened, with no event, counts as failed (no busy loop). */
const MIN_WATCH_MS = 1_000;

function isGone(event: WatchEvent): boolean {
  return event.type === 'ERROR' && Number((event.object as { code?: unknown }).code) === 410;
}

export class Informer<S extends InformerSource = InformerSource> {
  readonly source: S;
  /** Why the last list or watch failed; undefined while all is well. */
  failure?: string;
  /** How many times the objects were listed (the first list, then after 410 or a failure). */
  lists = 0;
  /** Settles when the first list has succeeded or failed. */
  readonly attempted: Promise<void>;
  private items = new Map<string, KubeObject>();
  private listed = false;
  /** The watch ended with 410 Gone or a failure: the copy may miss changes until the next list. */
  private stale = false;
  private readonly options: ListOptions;
  private settleAttempt: () => void = () => undefined;

  constructor(
    private readonly gateway: ClusterGateway,
    source: S,
    private readonly onChange: () => void,
    private readonly sleep: Sleep,
    private readonly retryMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.source = source;
    this.options = {
      ...(source.labelSelector ? { labelSelector: source.labelSelector } : {}),
      ...(source.fieldSelector ? { fieldSelector: source.fieldSelector } : {}),
    };
    this.attempted = new Promise<void>((resolve) => (this.settleAttempt = resolve));
  }

  /** Listed at least once. */
  get synced(): boolean {
    return this.listed;
  }

  /** Listed, and watching since: no change can have been missed. */
  get current(): boolean {
    return this.listed && !this.stale;
  }

  objects(): KubeObject[] {
    return [...this.items.values()];
  }

  /** Runs until `signal` aborts; never throws. */
  async run(signal: AbortSignal): Promise<void> {
    const { kind, namespace } = this.source;
    signal.addEventListener('abort', () => this.settleAttempt(), { once: true });
    while (!signal.aborted) {
      let version: string;
      try {
        const list = await this.gateway.listWithVersion(kind, namespace, this.options);
        if (signal.aborted) return;
        this.items = new Map(list.items.map((item) => [keyOf(item), item]));
        version = list.resourceVersion;
        this.lists++;
        this.listed = true;
        this.stale = false;
        this.failure = undefined;
        this.settleAttempt();
        this.onChange();
      } catch (error) {
        this.settleAttempt();
        if (signal.aborted) return;
        this.failure = `list ${kind}: ${describe(error)}`;
        this.onChange();
        await this.sleep(this.retryMs, signal);
        continue;
      }
      const ended = await this.watchFrom(version, signal);
      if (ended === 'stopped') return;
      this.stale = true;
      if (ended === 'failed') await this.sleep(this.retryMs, signal);
    }
  }

  /** Watches from `version` until 410 (`gone`: list again) or a failure; resumes ended watches. */
  private async watchFrom(version: string, signal: AbortSignal): Promise<'gone' | 'failed' | 'stopped'> {
    let current = version;
    while (!signal.aborted) {
      const watch = new AbortController();
      const stop = () => watch.abort();
      signal.addEventListener('abort', stop, { once: true });
      let gone = false;
      let broken: string | undefined;
      let events = 0;
      const opened = this.clock();
      try {
        await this.gateway.watch(
          this.source.kind,
          this.source.namespace,
          { ...this.options, resourceVersion: current },
          (event) => {
            if (watch.signal.aborted) return;
            if (isGone(event) || event.type === 'ERROR') {
              gone = isGone(event);
              if (!gone) broken = `watch ${this.source.kind}: ${JSON.stringify(event.object)}`;
              watch.abort();
              return;
            }
            const next = apply(this.items, event);
            events++;
            if (next !== undefined) current = next;
            if (event.type !== 'BOOKMARK') this.onChange();
          },
          watch.signal,
        );
      } catch (error) {
        if (signal.aborted) return 'stopped';
        if (isApiError(error) && error.status === 410) return 'gone';
        this.failure = `watch ${this.source.kind}: ${describe(error)}`;
        this.onChange();
        return 'failed';
      } finally {
        signal.removeEventListener('abort', stop);
      }
      if (gone) return 'gone';
      if (broken) {
        this.failure = broken;
        this.onChange();
        return 'failed';
      }
      if (events === 0 && this.clock() - opened < MIN_WATCH_MS) return 'failed';
    }
    return 'stopped';
  }
}

function keyOf(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/** Applies one event to the local copy; the resourceVersion to resume from, if it carries one. */
function apply(items: Map<string, KubeObject>, event: WatchEvent): string | undefined {
  const version = event.object.metadata?.resourceVersion;
  if (event.type === 'ADDED' || event.type === 'MODIFIED') items.set(keyOf(event.object), event.object);
  else if (event.type === 'DELETED') items.delete(keyOf(event.object));
  return version;
}
