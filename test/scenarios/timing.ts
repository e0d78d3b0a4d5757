// Time to a verified fix against the workload's own rollout time (ADR 0032). While kubemend's step
// runs, the runner lists and then watches (from the lists' resourceVersion) the step's target, the
// scenario's workloads, pods and EndpointSlices, and judges each state as it arrives: the change
// reached the cluster when the spec of the target, or of a workload or Service the scenario names,
// first differs from before the step; the rollout is done when, after that, every `healthy` workload
// has all its replicas Ready among pods that did not exist before the step (or, for a fix that does
// not change the workload, all Ready), no other left, and every `endpoints` service has its ready
// endpoints. kubemend's verified result (finishedAt)
// gives the time to a verified fix.
import * as k8s from '@kubernetes/client-node';
import type { RemediateOutput } from '../../src/domain/index.js';
import type { ClusterIO } from './cluster-io.js';
import type { Scenario } from './runner.js';
import { getPath } from './signals.js';

export interface FixTiming {
  /** From the change reaching the cluster to kubemend's verified result. */
  readonly timeToVerifiedMs: number;
  /** From the change reaching the cluster to the new pods Ready (and endpoints ready). */
  readonly rolloutMs: number;
  /** timeToVerifiedMs / rolloutMs, when the fix changed a workload (a Service fix does not). */
  readonly ratio?: number;
  /**
   * The rollout brought up new pods (a rollback to pods that kept running does not: its rollout is
   * the failing pods going, often in milliseconds, which makes its ratio noisy).
   */
  readonly newPods?: boolean;
  /** The verification plan's windows (what the evidence asked for). */
  readonly stabilityMs?: number;
  readonly survivalMs?: number;
}

type Item = Record<string, unknown>;

const COLLECTIONS = {
  deployments: '/apis/apps/v1',
  statefulsets: '/apis/apps/v1',
  daemonsets: '/apis/apps/v1',
  services: '/api/v1',
  pods: '/api/v1',
  endpointslices: '/apis/discovery.k8s.io/v1',
} as const;
type Collection = keyof typeof COLLECTIONS;

const PLURAL: Record<string, Collection> = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets', Service: 'services' };

function ready(pod: Item): boolean {
  const conditions = (getPath(pod, 'status.conditions') as Array<{ type: string; status: string }> | undefined) ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

const nameOf = (item: Item) => String(getPath(item, 'metadata.name'));
const uidOf = (item: Item) => String(getPath(item, 'metadata.uid'));

export class RolloutClock {
  private appliedAt?: number;
  private readyAt?: number;
  private readonly cache = new Map<Collection, Map<string, Item>>();
  private readonly watches: AbortController[] = [];
  private readonly oldPods = new Set<string>();
  private readonly generations = new Map<string, unknown>();
  /** The fix brought up pods of its own (a rollback to pods that kept running does not). */
  private newPods = false;
  private specBefore = 'null';

  constructor(
    private readonly io: ClusterIO,
    private readonly scenario: Scenario,
  ) {}

  private get ns(): string {
    return this.scenario.name;
  }

  private items(collection: Collection): Item[] {
    return [...(this.cache.get(collection)?.values() ?? [])].filter((item) => !getPath(item, 'metadata.deletionTimestamp'));
  }

  /**
   * The specs of what a fix may change: the step's target and the scenario's workloads and Services
   * (a target kubemend reached through another object — a Node's event leading to a Deployment —
   * is among the workloads).
   */
  private targetSpec(): string {
    const objects: Array<{ kind: string; name: string }> = [
      ...(this.scenario.input.target ? [this.scenario.input.target] : []),
      ...this.scenario.expect.healthy,
      ...this.scenario.expect.endpoints.map(({ service }) => ({ kind: 'Service', name: service })),
    ];
    const specs = objects.map(({ kind, name }) => {
      const collection = PLURAL[kind];
      return getPath(collection ? this.cache.get(collection)?.get(name) : undefined, 'spec') ?? null;
    });
    return JSON.stringify(specs);
  }

  private rolledOut(): boolean {
    for (const { kind, name } of this.scenario.expect.healthy) {
      const workload = this.cache.get(PLURAL[kind]!)?.get(name);
      if (!workload) return false;
      const labels = (getPath(workload, 'spec.selector.matchLabels') as Record<string, string> | undefined) ?? {};
      const replicas = Number(getPath(workload, 'spec.replicas') ?? 1);
      const pods = this.items('pods').filter((pod) => Object.entries(labels).every(([k, v]) => getPath(pod, 'metadata.labels')?.[k as never] === v));
      // A fix that changes the workload has rolled out when the controller says so (as `kubectl
      // rollout status`) and its new pods (if it made any) are Ready with no other pod left; a fix
      // that does not change it (a Service fix), when all its pods are Ready.
      const fresh = pods.filter((pod) => !this.oldPods.has(uidOf(pod)));
      if (fresh.length > 0) this.newPods = true;
      if (this.changed(kind, name)) {
        const status = (field: string) => Number(getPath(workload, `status.${field}`) ?? 0);
        const done =
          status('observedGeneration') >= Number(getPath(workload, 'metadata.generation') ?? 0) &&
          ['updatedReplicas', 'readyReplicas', 'availableReplicas'].every((field) => status(field) >= replicas) &&
          status('replicas') === replicas;
        if (!done || !fresh.every(ready)) return false;
      }
      if (pods.filter(ready).length < replicas || pods.length > replicas) return false;
    }
    for (const { service, min } of this.scenario.expect.endpoints) {
      const slices = this.items('endpointslices').filter((slice) => getPath(slice, 'metadata.labels')?.['kubernetes.io/service-name' as never] === service);
      const count = slices.flatMap((slice) => ((slice['endpoints'] as Array<{ conditions?: { ready?: boolean } }> | undefined) ?? []).filter((e) => e.conditions?.ready)).length;
      if (count < min) return false;
    }
    return true;
  }

  /** The workload's spec changed since before the step (a rollout). */
  private changed(kind: string, name: string): boolean {
    const workload = this.cache.get(PLURAL[kind]!)?.get(name);
    return getPath(workload, 'metadata.generation') !== this.generations.get(`${kind}/${name}`);
  }

  private judge(): void {
    const now = Date.now();
    if (this.appliedAt === undefined && this.targetSpec() !== this.specBefore) this.appliedAt = now;
    if (this.appliedAt !== undefined && this.readyAt === undefined && this.rolledOut()) this.readyAt = now;
  }

  /** Lists and watches what the timing needs, and notes the state before the step. */
  async start(): Promise<void> {
    const collections = Object.keys(COLLECTIONS) as Collection[];
    const versions = new Map<Collection, string>();
    for (const collection of collections) {
      const path = `${COLLECTIONS[collection]}/namespaces/${this.ns}/${collection}`;
      const list = (await this.io.get(path)) as { items?: Item[]; metadata?: { resourceVersion?: string } };
      this.cache.set(collection, new Map((list.items ?? []).map((item) => [nameOf(item), item])));
      versions.set(collection, list.metadata?.resourceVersion ?? '');
    }
    for (const pod of this.items('pods')) this.oldPods.add(uidOf(pod));
    for (const { kind, name } of this.scenario.expect.healthy)
      this.generations.set(`${kind}/${name}`, getPath(this.cache.get(PLURAL[kind]!)?.get(name), 'metadata.generation'));
    this.specBefore = this.targetSpec();
    const watch = new k8s.Watch(this.io.kubeconfig);
    for (const collection of collections) {
      const path = `${COLLECTIONS[collection]}/namespaces/${this.ns}/${collection}`;
      const controller = await watch.watch(
        path,
        { resourceVersion: versions.get(collection), allowWatchBookmarks: true },
        (phase: string, object: Item) => {
          const items = this.cache.get(collection)!;
          if (phase === 'DELETED') items.delete(nameOf(object));
          else if (phase === 'ADDED' || phase === 'MODIFIED') items.set(nameOf(object), object);
          this.judge();
        },
        () => undefined,
      );
      this.watches.push(controller);
    }
  }

  /** The timing of a verified fix, or undefined when there was none (or it was not seen). */
  async stop(output: RemediateOutput): Promise<FixTiming | undefined> {
    // The rollout may finish after kubemend's verdict only when verification ended early: wait a little.
    const deadline = Date.now() + 5_000;
    while (this.appliedAt !== undefined && this.readyAt === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    for (const controller of this.watches) controller.abort();
    const verified = (output.results ?? []).filter((r) => r.status === 'verified').map((r) => Date.parse(r.finishedAt));
    if (this.appliedAt === undefined || this.readyAt === undefined || verified.length === 0) return undefined;
    const timeToVerifiedMs = Math.max(...verified) - this.appliedAt;
    const rolloutMs = Math.max(1, this.readyAt - this.appliedAt);
    const executed = output.remediation.actions.find((a) => (output.results ?? []).some((r) => r.actionId === a.id && r.status === 'verified'));
    const plan = executed?.verificationPlan;
    const rolled = this.scenario.expect.healthy.some(({ kind, name }) => this.changed(kind, name));
    return {
      timeToVerifiedMs,
      rolloutMs,
      ...(rolled ? { ratio: Math.round((timeToVerifiedMs / rolloutMs) * 100) / 100, newPods: this.newPods } : {}),
      ...(plan ? { stabilityMs: plan.stabilityMs, ...(plan.survivalMs !== undefined ? { survivalMs: plan.survivalMs } : {}) } : {}),
    };
  }
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
