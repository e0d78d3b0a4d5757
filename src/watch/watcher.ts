/**
 * The event-driven trigger (`kubemend watch`, and `serve` with `watch.enabled`): informers on pods,
 * Warning events and workloads (Deployments, StatefulSets, DaemonSets) in the opted-in namespaces of
 * one cluster. When a signal appears, the workload's incident is opened after the debounce window
 * (every signal of the workload within it makes the one incident), through the durable claim of
 * `IncidentOpener`. When no pod or condition of a workload shows a status signal any more for the
 * debounce window, its status incidents close (their cooldown starts). See docs/watch.md, ADR 0037.
 *
 * Survives an API server restart: the informers resume from their resourceVersion, or re-list on
 * 410 Gone; a re-list replays every failing pod, and the claim dedups it. Memory is bounded by the
 * projections (signals.ts) and by the failing workloads, not by the objects.
 */
import type { ClusterGateway } from '../cluster/gateway.js';
import { Informer, type InformerChange } from '../cluster/informer.js';
import type { IncidentStore } from '../sessions/incidents.js';
import { IncidentOpener, type Opened, type OpenerOptions } from './opener.js';
import {
  eventSignal,
  type Projection,
  projectPod,
  projectWorkload,
  replicaSetOwner,
  STATUS_SIGNALS,
  type WorkloadRef,
  workloadKey,
} from './signals.js';

export interface WatcherLogger {
  info(detail: Record<string, unknown>, message: string): void;
  warn(detail: Record<string, unknown>, message: string): void;
  error(detail: Record<string, unknown>, message: string): void;
}

export interface WatcherOptions extends Omit<OpenerOptions, 'now'> {
  readonly gateway: ClusterGateway;
  readonly namespaces: readonly string[];
  readonly debounceMs: number;
  readonly logger: WatcherLogger;
  readonly now?: () => number;
  /** Each incident opened (or found open), for logs, tests and the benchmark. */
  readonly onIncident?: (opened: Opened & { readonly openedAt: number }) => void;
  /** Informer tuning (tests). */
  readonly watchTimeoutSeconds?: number;
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;

interface Pending {
  readonly workload: WorkloadRef;
  readonly signal: string;
  signalAt: number;
  readonly texts: string[];
  readonly timer: NodeJS.Timeout;
}

export class Watcher {
  private readonly informers: Array<Informer<unknown>> = [];
  private readonly pods = new Map<string, Informer<Projection>>();
  /** Failing workloads: workload key → source key (`Pod/ns/name` or the workload) → signal. */
  private readonly active = new Map<string, Map<string, string>>();
  private readonly pending = new Map<string, Pending>();
  /** Keys opened by this process, so a crash loop's every event does not reach the store. */
  private readonly opened = new Set<string>();
  private readonly closing = new Map<string, NodeJS.Timeout>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly opener: IncidentOpener;
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly options: WatcherOptions) {
    this.now = options.now ?? Date.now;
    this.opener = new IncidentOpener({ ...options, now: this.now });
  }

  get incidents(): IncidentStore {
    return this.options.incidents;
  }

  /** Informers in every namespace; resolves when each has listed once (or failed to, and retries). */
  start(): void {
    for (const namespace of this.options.namespaces) {
      const pods = this.informer<Projection>('Pod', namespace, (pod) => projectPod(pod, this.now()), 'pod');
      this.pods.set(namespace, pods);
      for (const kind of WORKLOAD_KINDS)
        this.informer<Projection>(kind, namespace, (workload) => projectWorkload(workload), 'workload');
      this.informers.push(
        new Informer<unknown>(this.options.gateway, {
          kind: 'Event',
          namespace,
          stateless: true,
          project: (event) => eventSignal(event, this.now()),
          onChange: (change) => this.onEvent(change as InformerChange<ReturnType<typeof eventSignal>>),
          onError: (error, retryInMs) => this.informerFailed('Event', namespace, error, retryInMs),
          ...(this.options.watchTimeoutSeconds
            ? { watchTimeoutSeconds: this.options.watchTimeoutSeconds }
            : {}),
        }),
      );
    }
    for (const informer of this.informers) informer.start();
  }

  /** True once every informer has listed. */
  get synced(): boolean {
    return this.informers.every((informer) => informer.synced);
  }

  /** Failing workloads held in memory, and projections stored (for bounded-memory checks). */
  get sizes(): { failing: number; stored: number } {
    let stored = 0;
    for (const informer of this.informers) stored += informer.size;
    return { failing: this.active.size, stored };
  }

  get stats(): { lists: number; relists: number; watches: number; errors: number; events: number } {
    const total = { lists: 0, relists: 0, watches: 0, errors: 0, events: 0 };
    for (const informer of this.informers)
      for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += informer.stats[key];
    return total;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    for (const timer of this.closing.values()) clearTimeout(timer);
    this.pending.clear();
    await Promise.all(this.informers.map((informer) => informer.stop()));
    await Promise.allSettled([...this.inflight]);
  }

  private informer<T extends Projection>(
    kind: string,
    namespace: string,
    project: (object: Parameters<typeof projectPod>[0]) => T,
    source: 'pod' | 'workload',
  ): Informer<T> {
    const informer = new Informer<T>(this.options.gateway, {
      kind,
      namespace,
      project,
      onChange: (change) => this.onStatus(kind, change),
      onSynced: () => this.track(this.closeRecovered(namespace, source)),
      onError: (error, retryInMs) => this.informerFailed(kind, namespace, error, retryInMs),
      ...(this.options.watchTimeoutSeconds ? { watchTimeoutSeconds: this.options.watchTimeoutSeconds } : {}),
    });
    this.informers.push(informer as Informer<unknown>);
    return informer;
  }

  private informerFailed(kind: string, namespace: string, error: unknown, retryInMs: number): void {
    this.options.logger.warn(
      { cluster: this.options.cluster, kind, namespace, err: error, retryInMs },
      `watch ${kind} in ${namespace}: ${(error as Error).message?.split('\n')[0]}; again in ${Math.round(retryInMs)} ms`,
    );
  }

  /** A pod or workload changed: update the failing set, trigger or schedule a close. */
  private onStatus(kind: string, change: InformerChange<Projection>): void {
    const source = `${kind}/${change.key}`;
    const before = change.previous;
    const after = change.value;
    if (before?.signal && (!after?.signal || workloadKey(before.workload) !== workloadKey(after.workload)))
      this.forget(before.workload, source);
    if (after?.signal) {
      const key = workloadKey(after.workload);
      let sources = this.active.get(key);
      if (!sources) this.active.set(key, (sources = new Map()));
      sources.set(source, after.signal.signal);
      const closing = this.closing.get(key);
      if (closing) {
        clearTimeout(closing);
        this.closing.delete(key);
      }
      this.trigger(after.workload, after.signal.signal, after.signal.at, after.signal.text);
    }
  }

  private onEvent(change: InformerChange<ReturnType<typeof eventSignal>>): void {
    const found = change.value;
    if (!found || change.type === 'delete') return;
    const { involved } = found;
    let workload: WorkloadRef | undefined;
    if (involved.kind === 'Pod') {
      workload = this.pods.get(involved.namespace)?.get(`${involved.namespace}/${involved.name}`)?.workload;
      // A pod not stored yet (or already gone): its ReplicaSet name is in its own name.
      workload ??= replicaSetOwner(involved.namespace, involved.name.replace(/-[a-z0-9]{5}$/, ''));
    } else if (involved.kind === 'ReplicaSet') workload = replicaSetOwner(involved.namespace, involved.name);
    else if ((WORKLOAD_KINDS as readonly string[]).includes(involved.kind)) workload = involved;
    if (workload) this.trigger(workload, found.signal, found.at, found.text);
  }

  private forget(workload: WorkloadRef, source: string): void {
    const key = workloadKey(workload);
    const sources = this.active.get(key);
    if (!sources) return;
    sources.delete(source);
    if (sources.size > 0) return;
    this.active.delete(key);
    // Still clear after the debounce window: the workload recovered; its status incidents close.
    if (!this.closing.has(key))
      this.closing.set(
        key,
        setTimeout(() => {
          this.closing.delete(key);
          if (!this.active.has(key)) this.track(this.closeWorkload(workload));
        }, this.options.debounceMs),
      );
  }

  /** The first signal of (workload, signal) starts the debounce window; later ones join it. */
  private trigger(workload: WorkloadRef, signal: string, signalAt: number, text: string): void {
    if (this.stopped) return;
    const key = `${workloadKey(workload)}|${signal}`;
    if (this.opened.has(key)) return;
    const pending = this.pending.get(key);
    if (pending) {
      pending.signalAt = Math.min(pending.signalAt, signalAt);
      if (pending.texts.length < 3 && !pending.texts.includes(text)) pending.texts.push(text);
      return;
    }
    const timer = setTimeout(() => {
      this.pending.delete(key);
      this.track(this.open(key, workload, signal, entry));
    }, this.options.debounceMs);
    const entry: Pending = { workload, signal, signalAt, texts: [text], timer };
    this.pending.set(key, entry);
  }

  private async open(key: string, workload: WorkloadRef, signal: string, entry: Pending): Promise<void> {
    try {
      const opened = await this.opener.open(workload, signal, entry.signalAt, entry.texts.join('; '));
      if (opened.open) this.opened.add(key);
      this.options.onIncident?.({ ...opened, openedAt: this.now() });
      if (opened.created)
        this.options.logger.info(
          {
            cluster: this.options.cluster,
            workload: workloadKey(workload),
            signal,
            sessionId: opened.sessionId,
          },
          `incident: ${workload.kind} ${workload.namespace}/${workload.name} ${signal} → session ${opened.sessionId}`,
        );
    } catch (error) {
      // Not opened: the next signal of this workload tries again.
      this.options.logger.error(
        { cluster: this.options.cluster, workload: workloadKey(workload), signal, err: error },
        `could not open the incident of ${workloadKey(workload)} (${signal})`,
      );
    }
  }

  private async closeWorkload(workload: WorkloadRef): Promise<void> {
    const open = await this.options.incidents.listOpen(this.options.cluster, workload.namespace);
    for (const incident of open)
      if (
        incident.kind === workload.kind &&
        incident.name === workload.name &&
        STATUS_SIGNALS.has(incident.signal)
      ) {
        await this.options.incidents.close(incident, this.now());
        this.opened.delete(`${workloadKey(workload)}|${incident.signal}`);
      }
  }

  /** After a (re-)list: the status incidents of workloads no longer failing close. */
  private async closeRecovered(namespace: string, source: 'pod' | 'workload'): Promise<void> {
    const podSignals = source === 'pod';
    for (const incident of await this.options.incidents.listOpen(this.options.cluster, namespace)) {
      if (!STATUS_SIGNALS.has(incident.signal)) continue;
      const fromWorkload = incident.signal === 'RolloutStuck' || incident.signal === 'ReplicaFailure';
      if (fromWorkload === podSignals) continue;
      const key = workloadKey(incident);
      if (this.active.get(key) || this.pending.has(`${key}|${incident.signal}`)) continue;
      await this.options.incidents.close(incident, this.now());
      this.opened.delete(`${key}|${incident.signal}`);
    }
  }

  private track(work: Promise<unknown>): void {
    const tracked = work
      .catch((error: unknown) =>
        this.options.logger.error({ cluster: this.options.cluster, err: error }, 'watch: bookkeeping failed'),
      )
      .finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }
}
