// Time to a verified fix against the workload's own rollout time (ADR 0032). While kubemend's step
// runs, the runner polls (every 100 ms) the step's target and what a fix must bring up: it notes
// when the target's spec first differs from before the step (the change reached the cluster), and
// when, after that, every `healthy` workload has all its replicas Ready among pods that did not
// exist before the step (or, for a fix with no new pods, Ready pods again) and every `endpoints`
// service has its ready endpoints. The verified result's finishedAt gives the time to a verified fix.
import type { RemediateOutput } from '../../src/domain/index.js';
import type { ClusterIO } from './cluster-io.js';
import type { Scenario } from './runner.js';
import { getPath } from './signals.js';

export interface FixTiming {
  /** From the change reaching the cluster to kubemend's verified result. */
  readonly timeToVerifiedMs: number;
  /** From the change reaching the cluster to the new pods Ready (and endpoints ready). */
  readonly rolloutMs: number;
  /** timeToVerifiedMs / rolloutMs. */
  readonly ratio: number;
  /** The verification plan's windows (what the evidence asked for). */
  readonly stabilityMs?: number;
  readonly survivalMs?: number;
}

const RESOURCE: Record<string, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  Service: 'services',
};
const POLL_MS = 100;

type Item = Record<string, unknown>;

function ready(pod: Item): boolean {
  const conditions = (getPath(pod, 'status.conditions') as Array<{ type: string; status: string }> | undefined) ?? [];
  return !getPath(pod, 'metadata.deletionTimestamp') && conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

function uid(item: Item): string {
  return String(getPath(item, 'metadata.uid'));
}

export class RolloutClock {
  private appliedAt?: number;
  private readyAt?: number;
  private stopped = false;
  private loop?: Promise<void>;
  private readonly oldPods = new Set<string>();
  private specBefore?: string;

  constructor(
    private readonly io: ClusterIO,
    private readonly scenario: Scenario,
  ) {}

  private get ns(): string {
    return this.scenario.name;
  }

  private async target(): Promise<Item | undefined> {
    const target = this.scenario.input.target;
    const resource = target ? RESOURCE[target.kind] : undefined;
    if (!target || !resource) return undefined;
    const group = resource === 'services' ? '/api/v1' : '/apis/apps/v1';
    return (await this.io.get(`${group}/namespaces/${target.namespace ?? this.ns}/${resource}/${target.name}`)) as Item;
  }

  private async workloadsReady(): Promise<boolean> {
    for (const { kind, name } of this.scenario.expect.healthy) {
      const workload = (await this.io.get(`/apis/apps/v1/namespaces/${this.ns}/${RESOURCE[kind]}/${name}`)) as Item;
      const labels = (getPath(workload, 'spec.selector.matchLabels') as Record<string, string> | undefined) ?? {};
      const selector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
      const replicas = Number(getPath(workload, 'spec.replicas') ?? 1);
      const pods = (await this.io.objects('pods', this.ns, selector)).filter((pod) => !getPath(pod, 'metadata.deletionTimestamp'));
      const fresh = pods.filter((pod) => !this.oldPods.has(uid(pod)));
      // A fix that replaces pods is rolled out when the new ones are Ready; one that does not, when all are.
      const counted = fresh.length > 0 ? fresh : pods;
      if (counted.filter(ready).length < replicas || pods.length > replicas) return false;
    }
    for (const { service, min } of this.scenario.expect.endpoints) {
      const slices = await this.io.objects('endpointslices', this.ns, `kubernetes.io/service-name=${service}`);
      const count = slices.flatMap((slice) => ((slice['endpoints'] as Array<{ conditions?: { ready?: boolean } }> | undefined) ?? []).filter((e) => e.conditions?.ready)).length;
      if (count < min) return false;
    }
    return true;
  }

  /** Notes the pods and the target before the step, then polls until `stop`. */
  async start(): Promise<void> {
    for (const pod of await this.io.objects('pods', this.ns)) this.oldPods.add(uid(pod));
    this.specBefore = JSON.stringify(getPath(await this.target(), 'spec') ?? null);
    this.loop = (async () => {
      while (!this.stopped && this.readyAt === undefined) {
        const now = Date.now();
        try {
          if (this.appliedAt === undefined) {
            if (JSON.stringify(getPath(await this.target(), 'spec') ?? null) !== this.specBefore) this.appliedAt = now;
          } else if (await this.workloadsReady()) this.readyAt = Date.now();
        } catch {
          // the object may be mid-replace: try again
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    })();
  }

  /** The timing of a verified fix, or undefined when there was none (or it was not seen). */
  async stop(output: RemediateOutput): Promise<FixTiming | undefined> {
    // Give the poll a moment to see readiness the verification already saw.
    const deadline = Date.now() + 5_000;
    while (this.appliedAt !== undefined && this.readyAt === undefined && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    this.stopped = true;
    await this.loop;
    const verified = (output.results ?? []).filter((r) => r.status === 'verified').map((r) => Date.parse(r.finishedAt));
    if (this.appliedAt === undefined || this.readyAt === undefined || verified.length === 0) return undefined;
    const timeToVerifiedMs = Math.max(...verified) - this.appliedAt;
    const rolloutMs = Math.max(1, this.readyAt - this.appliedAt);
    const executed = output.remediation.actions.find((a) => (output.results ?? []).some((r) => r.actionId === a.id && r.status === 'verified'));
    const plan = executed?.verificationPlan;
    return {
      timeToVerifiedMs,
      rolloutMs,
      ratio: Math.round((timeToVerifiedMs / rolloutMs) * 100) / 100,
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
