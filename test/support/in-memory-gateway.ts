/**
 * InMemoryClusterGateway: a ClusterGateway over a map of objects, for unit tests of execution and
 * the service. It keeps resourceVersion and generation like the API server (a write with a stale
 * resourceVersion is a 409; a dry-run stores nothing), stamps kubemend's field manager on every
 * write, plays a workload controller (a Deployment becomes healthy or not after a change, as the
 * test says), serves lists with their resourceVersion and watches from one (every change is an
 * event; `expireWatches` answers open watches with 410 Gone, as after an etcd compaction) and
 * injects faults into chosen requests:
 *
 * - `reject`: the API server refuses the request (e.g. 422 invalid, 403 forbidden);
 * - `concurrent-change`: someone else changes the object just before, so the write meets a 409;
 * - `lose-answer`: the write lands, but the answer never comes back (a network error), and the
 *   API server may stay unreachable for a few reads;
 * - `drop`: the request never arrives (a network error, nothing written).
 */
import { KubernetesApiError } from '../../src/cluster/errors.js';
import { CLUSTER_SCOPED_KINDS } from '../../src/domain/index.js';
import {
  type ClusterGateway,
  FIELD_MANAGER,
  type KubeObject,
  type ListOptions,
  type ListPage,
  type LogOptions,
  type ObjectKey,
  type PageOptions,
  type PatchKind,
  type VersionedList,
  type WatchEvent,
  type WriteOptions,
} from '../../src/cluster/gateway.js';

export const WRITE_VERBS = ['patch', 'create', 'replace', 'delete', 'scale', 'restart', 'cordon'] as const;
export type WriteVerb = (typeof WRITE_VERBS)[number];

export type Fault =
  | { readonly kind: 'reject'; readonly status: number; readonly message: string }
  | { readonly kind: 'concurrent-change'; readonly annotation?: string }
  /** A controller writes the object's status just before the request: a new resourceVersion only. */
  | { readonly kind: 'status-churn' }
  | {
      readonly kind: 'lose-answer';
      /** Then the next n reads fail too. */ readonly unreachableReads?: number;
    }
  | { readonly kind: 'drop' };

export interface FaultRule {
  readonly verb: WriteVerb;
  /** Match only requests for the object of this name. */
  readonly name?: string;
  /** Match only dry-run (true) or only real (false) requests; both when absent. */
  readonly dryRun?: boolean;
  readonly fault: Fault;
  /** How many matching requests it applies to (default 1). */
  times?: number;
  /** How many matching requests pass untouched first (default 0). */
  skip?: number;
}

export type Rollout = 'healthy' | 'unhealthy';

export interface WriteRecord {
  readonly verb: WriteVerb;
  readonly key: string;
  readonly dryRun: boolean;
}

function keyString(key: ObjectKey): string {
  return `${key.kind}/${key.namespace ?? ''}/${key.name}`;
}

function keyFrom(object: KubeObject): ObjectKey {
  return {
    kind: String(object.kind),
    namespace: object.metadata?.namespace,
    name: String(object.metadata?.name),
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merge patch, with lists of named objects merged by name (as strategic merge does for containers). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (Array.isArray(patch) && Array.isArray(target) && patch.every((p) => isPlainObject(p) && 'name' in p)) {
    const merged = target.map((item) => {
      const match = patch.find((p) => isPlainObject(item) && p.name === item.name);
      return match ? mergePatch(item, match) : item;
    });
    for (const item of patch)
      if (!target.some((t) => isPlainObject(t) && t.name === item.name)) merged.push(item);
    return merged;
  }
  if (!isPlainObject(patch)) return structuredClone(patch);
  const base = isPlainObject(target) ? target : {};
  const merged = Object.entries(patch).map(([field, value]) => [field, mergePatch(base[field], value)]);
  const removed = new Set(Object.keys(patch).filter((field) => patch[field] === null));
  return Object.fromEntries([
    ...Object.entries(base).filter(([field]) => !(field in patch)),
    ...merged.filter(([field]) => !removed.has(field as string)),
  ]);
}

export class InMemoryClusterGateway implements ClusterGateway {
  readonly server = 'memory://in-memory-cluster';
  readonly writes: WriteRecord[] = [];
  /**
   * Every read request, as `verb kind namespace` (`list Pod shop`, `page Pod *`, `logs shop/web-1/main`);
   * lists to watch from and watches as `list Kind` / `watch Kind from RV` (to check list-then-watch).
   */
  readonly reads: string[] = [];
  /** Container logs by `namespace/pod/container` (`…/previous` for the previous container). */
  readonly podLogs = new Map<string, string>();
  /**
   * Lists refused with 403, as RBAC refuses them: `*` for every namespaced kind across all
   * namespaces (cluster-scoped kinds stay readable), or a namespace name.
   */
  readonly forbiddenLists = new Set<string>();
  /** Faults waiting for a matching request. */
  readonly faults: FaultRule[] = [];
  /** How a Deployment's pods fare after each change, per object name (default healthy). */
  readonly rollouts = new Map<string, Rollout>();
  /** The next n reads fail as if the API server were unreachable. */
  unreachableReads = 0;
  /** Watches from a resourceVersion below this get `ERROR` 410 Gone (etcd compacted it). */
  compactedBefore = 0;
  private readonly objects = new Map<string, KubeObject>();
  /** Every change, in order, for watches that start from an older resourceVersion. */
  private readonly history: Array<{ readonly version: number; readonly event: WatchEvent }> = [];
  private readonly watchers = new Set<{
    readonly matches: (object: KubeObject) => boolean;
    readonly onEvent: (event: WatchEvent) => void;
    /** `Kind namespace` (`Pod shop`, `Event *`). */
    readonly label: string;
    end?: () => void;
  }>();
  /** The next n watches fail as if the API server were unreachable. */
  unreachableWatches = 0;
  private resourceVersions = 1000;
  private readonly clock: () => Date;

  constructor(objects: readonly KubeObject[] = [], clock: () => Date = () => new Date()) {
    this.clock = clock;
    for (const object of objects) this.put(object);
  }

  /** Stores an object as someone other than kubemend would (new resourceVersion, status computed). */
  put(object: KubeObject, manager = 'kubectl'): KubeObject {
    const key = keyFrom(object);
    const previous = this.objects.get(keyString(key));
    const stored = this.stamp(structuredClone(object), previous, manager);
    this.objects.set(keyString(key), stored);
    this.emit(previous ? 'MODIFIED' : 'ADDED', stored);
    return structuredClone(stored);
  }

  /** Deletes an object as someone other than kubemend would. */
  remove(key: ObjectKey): void {
    const current = this.objects.get(keyString(key));
    if (!current) return;
    this.objects.delete(keyString(key));
    this.emit('DELETED', {
      ...current,
      metadata: { ...current.metadata, resourceVersion: String(++this.resourceVersions) },
    });
  }

  /** Tells every open watch its resourceVersion is gone (410), as the API server does after compaction. */
  expireWatches(): void {
    this.compactedBefore = this.resourceVersions + 1;
    const gone: WatchEvent = {
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired' } as KubeObject,
    };
    for (const watcher of [...this.watchers]) watcher.onEvent(gone);
  }

  /**
   * Forgets the change history, as etcd compaction does: a watch from an older resourceVersion then
   * gets 410 Gone (`asEvent`: open watches get it too, as an ERROR event).
   */
  compact(options: { asEvent?: boolean } = {}): void {
    this.history.length = 0;
    this.compactedBefore = this.resourceVersions;
    if (!options.asEvent) return;
    const gone: WatchEvent = {
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired' } as KubeObject,
    };
    for (const watcher of [...this.watchers]) watcher.onEvent(gone);
  }

  /** Ends every open watch cleanly, as an API server going away does. */
  endWatches(): void {
    // Gone at once: a change made right after reaches no ended watch (only the next one, by replay).
    for (const watcher of [...this.watchers]) {
      this.watchers.delete(watcher);
      watcher.end?.();
    }
  }

  /** Open watches, as `Kind namespace` (`Pod shop`, `Event *`). */
  get openWatches(): string[] {
    return [...this.watchers].map((watcher) => watcher.label);
  }

  private emit(type: WatchEvent['type'], object: KubeObject): void {
    const event: WatchEvent = { type, object: structuredClone(object) };
    this.history.push({ version: Number(object.metadata?.resourceVersion), event });
    for (const watcher of [...this.watchers])
      if (watcher.matches(object)) watcher.onEvent(structuredClone(event));
  }

  private matcher(
    kind: string,
    namespace: string | undefined,
    options: ListOptions,
  ): (o: KubeObject) => boolean {
    const wanted = (options.labelSelector ?? '')
      .split(',')
      .filter(Boolean)
      .map((term) => term.split('=') as [string, string]);
    const name = /^metadata\.name=(.+)$/.exec(options.fieldSelector ?? '')?.[1];
    return (o) =>
      o.kind === kind &&
      (namespace === undefined || o.metadata?.namespace === namespace) &&
      (name === undefined || o.metadata?.name === name) &&
      wanted.every(([label, value]) => o.metadata?.labels?.[label] === value);
  }

  /** The stored object (a copy), or undefined. */
  object(key: ObjectKey): KubeObject | undefined {
    const found = this.objects.get(keyString(key));
    return found ? structuredClone(found) : undefined;
  }

  inject(rule: FaultRule): this {
    this.faults.push({ ...rule, times: rule.times ?? 1 });
    return this;
  }

  async version(): Promise<{ gitVersion: string }> {
    return { gitVersion: 'v1.36.0-in-memory' };
  }

  async get(key: ObjectKey): Promise<KubeObject | undefined> {
    if (this.unreachableReads > 0) {
      this.unreachableReads--;
      throw new KubernetesApiError(0, 'connect ECONNREFUSED (in-memory cluster unreachable)');
    }
    return this.object(key);
  }

  async list(kind: string, namespace?: string, options: ListOptions = {}): Promise<KubeObject[]> {
    this.reads.push(`list ${kind} ${namespace ?? '*'}`);
    return this.select(kind, namespace, options);
  }

  /** Pages of `limit` items; the continue token is the offset of the next page. */
  async listPage(kind: string, namespace: string | undefined, options: PageOptions): Promise<ListPage> {
    this.reads.push(`page ${kind} ${namespace ?? '*'}`);
    const clusterScoped = CLUSTER_SCOPED_KINDS.has(kind);
    if (
      (namespace === undefined && !clusterScoped && this.forbiddenLists.has('*')) ||
      (namespace !== undefined && this.forbiddenLists.has(namespace))
    )
      throw new KubernetesApiError(
        403,
        `${kind.toLowerCase()}s is forbidden: User "kubemend" cannot list resource in ${namespace ?? 'the cluster scope'}`,
      );
    if (this.unreachableReads > 0) {
      this.unreachableReads--;
      throw new KubernetesApiError(0, 'connect ECONNREFUSED (in-memory cluster unreachable)');
    }
    const all = this.select(kind, namespace, options);
    const start = options.continue ? Number(options.continue) : 0;
    const end = options.limit ? start + options.limit : all.length;
    return {
      items: all.slice(start, end),
      ...(end < all.length ? { continue: String(end), remainingItemCount: all.length - end } : {}),
      resourceVersion: String(this.resourceVersions),
    };
  }

  async listWithVersion(kind: string, namespace?: string, options: ListOptions = {}): Promise<VersionedList> {
    if (this.unreachableReads > 0) {
      this.unreachableReads--;
      throw new KubernetesApiError(0, 'connect ECONNREFUSED (in-memory cluster unreachable)');
    }
    this.reads.push(`list ${kind}`);
    return { items: this.select(kind, namespace, options), resourceVersion: String(this.resourceVersions) };
  }

  private select(kind: string, namespace: string | undefined, options: ListOptions): KubeObject[] {
    const matches = this.matcher(kind, namespace, options);
    return [...this.objects.values()].filter(matches).map((o) => structuredClone(o));
  }

  async logs(namespace: string, pod: string, container: string, options: LogOptions = {}): Promise<string> {
    const key = `${namespace}/${pod}/${container}${options.previous ? '/previous' : ''}`;
    this.reads.push(`logs ${key}`);
    return this.podLogs.get(key) ?? '';
  }

  async patch(
    key: ObjectKey,
    kind: PatchKind,
    patch: unknown,
    options: WriteOptions = {},
  ): Promise<KubeObject> {
    return this.write('patch', key, options, (current) => {
      if (kind === 'json') throw new KubernetesApiError(415, 'JSON patch is not supported in memory');
      return mergePatch(current, patch) as KubeObject;
    });
  }

  async create(manifest: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const key = keyFrom(manifest);
    return this.write('create', key, options, (current) => {
      if (current) throw new KubernetesApiError(409, `${key.kind} ${key.name} already exists`);
      return structuredClone(manifest);
    });
  }

  async replace(object: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const resourceVersion = options.resourceVersion ?? object.metadata?.resourceVersion;
    return this.write('replace', keyFrom(object), { ...options, resourceVersion }, () =>
      structuredClone(object),
    );
  }

  async delete(key: ObjectKey, options: WriteOptions = {}): Promise<void> {
    await this.write('delete', key, options, () => undefined);
  }

  async scale(key: ObjectKey, replicas: number, options: WriteOptions = {}): Promise<KubeObject> {
    return this.write(
      'scale',
      key,
      options,
      (current) => mergePatch(current, { spec: { replicas } }) as KubeObject,
    );
  }

  async restart(key: ObjectKey, options: WriteOptions = {}): Promise<KubeObject> {
    const stamp = { 'kubectl.kubernetes.io/restartedAt': this.clock().toISOString() };
    return this.write(
      'restart',
      key,
      options,
      (current) =>
        mergePatch(current, { spec: { template: { metadata: { annotations: stamp } } } }) as KubeObject,
    );
  }

  async rollback(): Promise<{ object: KubeObject; revision: number }> {
    throw new KubernetesApiError(501, 'rollback is not simulated in memory');
  }

  async cordon(node: string, unschedulable: boolean, options: WriteOptions = {}): Promise<KubeObject> {
    return this.write(
      'cordon',
      { kind: 'Node', name: node },
      options,
      (current) => mergePatch(current, { spec: { unschedulable } }) as KubeObject,
    );
  }

  /** Replays the changes after `resourceVersion`, then delivers each change as it is made. */
  async watch(
    kind: string,
    namespace: string | undefined,
    options: ListOptions & { resourceVersion?: string },
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const from = Number(options.resourceVersion ?? this.resourceVersions);
    this.reads.push(`watch ${kind} from ${from}`);
    if (signal.aborted) return;
    if (this.unreachableWatches > 0) {
      this.unreachableWatches--;
      throw new KubernetesApiError(0, 'connect ECONNREFUSED (in-memory cluster unreachable)');
    }
    if (from < this.compactedBefore) {
      onEvent({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } as KubeObject });
      return;
    }
    const matches = this.matcher(kind, namespace, options);
    for (const { version, event } of this.history)
      if (version > from && matches(event.object)) onEvent(structuredClone(event));
    const watcher: { matches: typeof matches; onEvent: typeof onEvent; label: string; end?: () => void } = {
      matches,
      onEvent,
      label: `${kind} ${namespace ?? '*'}`,
    };
    this.watchers.add(watcher);
    await new Promise<void>((resolve) => {
      watcher.end = resolve;
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.watchers.delete(watcher);
  }

  async canI(): Promise<boolean> {
    return true;
  }

  async tokenReview(): Promise<{ authenticated: boolean }> {
    return { authenticated: false };
  }

  private takeFault(verb: WriteVerb, key: ObjectKey, dryRun: boolean): Fault | undefined {
    for (let index = 0; index < this.faults.length; index++) {
      const rule = this.faults[index]!;
      const matches =
        rule.verb === verb &&
        (rule.name === undefined || rule.name === key.name) &&
        (rule.dryRun === undefined || rule.dryRun === dryRun);
      if (!matches) continue;
      if ((rule.skip ?? 0) > 0) {
        rule.skip = rule.skip! - 1;
        continue;
      }
      rule.times = (rule.times ?? 1) - 1;
      if (rule.times <= 0) this.faults.splice(index, 1);
      return rule.fault;
    }
    return undefined;
  }

  private async write(
    verb: WriteVerb,
    key: ObjectKey,
    options: WriteOptions,
    change: (current: KubeObject | undefined) => KubeObject | undefined,
  ): Promise<KubeObject> {
    const dryRun = options.dryRun === true;
    this.writes.push({ verb, key: keyString(key), dryRun });
    // Let other requests interleave, as they would over the network.
    await Promise.resolve();
    const fault = this.takeFault(verb, key, dryRun);
    if (fault?.kind === 'reject') throw new KubernetesApiError(fault.status, fault.message);
    if (fault?.kind === 'drop') throw new KubernetesApiError(0, 'socket hang up (request dropped)');
    if (fault?.kind === 'status-churn') {
      const current = this.objects.get(keyString(key));
      if (current) this.put(structuredClone(current), 'kube-controller-manager');
    }
    if (fault?.kind === 'concurrent-change') {
      const current = this.objects.get(keyString(key));
      if (current) {
        const annotations = {
          ...current.metadata?.annotations,
          [fault.annotation ?? 'someone']: `else-${this.resourceVersions}`,
        };
        this.put({ ...current, metadata: { ...current.metadata, annotations } });
      }
    }
    const current = this.objects.get(keyString(key));
    if (verb !== 'create' && !current) throw new KubernetesApiError(404, `${keyString(key)} not found`);
    if (
      options.resourceVersion !== undefined &&
      current?.metadata?.resourceVersion !== options.resourceVersion
    )
      throw new KubernetesApiError(
        409,
        `Operation cannot be fulfilled on ${keyString(key)}: the object has been modified`,
      );
    const next = change(current ? structuredClone(current) : undefined);
    if (dryRun) return next ?? structuredClone(current!);
    let stored: KubeObject;
    if (next === undefined) {
      this.objects.delete(keyString(key));
      stored = current!;
      this.emit('DELETED', {
        ...stored,
        metadata: { ...stored.metadata, resourceVersion: String(++this.resourceVersions) },
      });
    } else {
      stored = this.stamp(next, current, FIELD_MANAGER);
      this.objects.set(keyString(key), stored);
      this.emit(current ? 'MODIFIED' : 'ADDED', stored);
    }
    if (fault?.kind === 'lose-answer') {
      this.unreachableReads += fault.unreachableReads ?? 0;
      throw new KubernetesApiError(0, 'socket hang up (answer lost)');
    }
    return structuredClone(stored);
  }

  /** resourceVersion, generation (when the spec changed), managedFields and controller status. */
  private stamp(object: KubeObject, previous: KubeObject | undefined, manager: string): KubeObject {
    const specChanged = JSON.stringify(previous?.spec) !== JSON.stringify(object.spec);
    const generation = (previous?.metadata?.generation ?? 0) + (specChanged || !previous ? 1 : 0);
    object.metadata = {
      ...object.metadata,
      resourceVersion: String(++this.resourceVersions),
      generation,
      managedFields: [{ manager, operation: 'Update', time: this.clock().toISOString() }],
    };
    if (object.kind === 'Deployment') object.status = this.deploymentStatus(object, generation);
    return object;
  }

  private deploymentStatus(object: KubeObject, generation: number): Record<string, unknown> {
    const replicas = Number((object.spec as { replicas?: number } | undefined)?.replicas ?? 1);
    const ready = (this.rollouts.get(String(object.metadata?.name)) ?? 'healthy') === 'healthy';
    return {
      observedGeneration: generation,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: ready ? replicas : 0,
      availableReplicas: ready ? replicas : 0,
    };
  }
}
