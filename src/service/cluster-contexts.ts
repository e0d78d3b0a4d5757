/**
 * One `ServiceContext` per cluster. With one cluster (no `clusters:`), every request uses the same
 * context. With several, a request's `cluster` picks one: its gateway (connected on first use,
 * behind its own circuit breaker), its policies, its target locks and rate guard, and audit records
 * stamped with its name; the session and audit stores are shared. A cluster that is down fails its
 * own requests with `cluster-unreachable`; the others never wait for it.
 */
import type { AuditRecorder } from '../audit/recorder.js';
import type { ClusterGateway } from '../cluster/gateway.js';
import { KubemendError } from '../domain/index.js';
import { TargetLocks } from '../execution/locks.js';
import type { SessionRecord, SessionStore } from '../sessions/store.js';
import { auditWithCluster } from './cluster-audit.js';
import type { ServiceContext, ServiceDependencies } from './context.js';
import { ActionRateGuard } from './rate-guard.js';

/** What every cluster's context shares. */
export interface SharedState {
  readonly audit: AuditRecorder;
  readonly sessions: SessionStore;
  readonly clock: () => Date;
  readonly instanceId: string;
  readonly leaseMs: number;
}

export class ClusterContexts {
  /** The context of the one cluster, or of the default cluster of several. */
  private readonly single: ServiceContext;
  private readonly byName = new Map<
    string,
    { readonly context: ServiceContext; readonly holder: { gateway?: ClusterGateway } }
  >();

  constructor(
    private readonly dependencies: ServiceDependencies,
    private readonly shared: SharedState,
  ) {
    const offline = dependencies.configuration.cluster.offline;
    this.single = this.build(
      dependencies,
      dependencies.clusterName,
      () => (offline ? undefined : dependencies.cluster),
      dependencies.locks,
    );
  }

  /** Several clusters are configured. */
  get several(): boolean {
    return this.dependencies.clusters !== undefined;
  }

  /** The context for a request's `cluster` (default: the default cluster), connected unless `connect` is false. */
  async for(requested: string | undefined, options: { connect?: boolean } = {}): Promise<ServiceContext> {
    const directory = this.dependencies.clusters;
    if (!directory) {
      const name = this.single.clusterName;
      if (requested !== undefined && requested !== name)
        throw new KubemendError(
          'invalid-input',
          `cluster: "${requested}" is not served here; this kubemend serves ${name ? `"${name}"` : 'no cluster'} (configure clusters: to serve several)`,
        );
      return this.single;
    }
    const name = directory.resolve(requested);
    let entry = this.byName.get(name);
    if (!entry) {
      const holder: { gateway?: ClusterGateway } = {};
      const dependencies: ServiceDependencies = {
        ...this.dependencies,
        policies: this.dependencies.clusterPolicies?.get(name) ?? this.dependencies.policies,
        clusterName: name,
      };
      entry = { context: this.build(dependencies, name, () => holder.gateway), holder };
      this.byName.set(name, entry);
    }
    if (options.connect !== false && !this.dependencies.configuration.cluster.offline)
      entry.holder.gateway = await directory.connect(name);
    return entry.context;
  }

  /** The context of the cluster a stored session is about (sessions without one: the default's). */
  forSession(session: SessionRecord, options: { connect?: boolean } = {}): Promise<ServiceContext> {
    if (!this.several && session.cluster !== undefined && session.cluster !== this.single.clusterName)
      throw new KubemendError(
        'session-state',
        `session ${session.id} is about cluster "${session.cluster}", and this kubemend serves ${
          this.single.clusterName ? `"${this.single.clusterName}"` : 'no cluster'
        }: its actions are never run against another cluster`,
      );
    return this.for(session.cluster, options);
  }

  /** With several clusters: the default one's gateway, once a request has connected it. */
  connectedDefault(): ClusterGateway | undefined {
    const name = this.dependencies.clusters?.defaultName;
    return name === undefined ? undefined : this.byName.get(name)?.holder.gateway;
  }

  /** The default context (the one cluster's), without connecting. */
  get default(): ServiceContext {
    return this.single;
  }

  /** Every configured cluster's name (one cluster: its name, if it has one). */
  names(): readonly string[] {
    return this.dependencies.clusters?.names ?? [];
  }

  private build(
    dependencies: ServiceDependencies,
    clusterName: string | undefined,
    cluster: () => ClusterGateway | undefined,
    locks?: TargetLocks,
  ): ServiceContext {
    const { shared } = this;
    const isDefault =
      this.dependencies.clusters === undefined || clusterName === this.dependencies.clusters.defaultName;
    return {
      dependencies,
      audit: auditWithCluster(shared.audit, clusterName),
      sessions: shared.sessions,
      locks: locks ?? new TargetLocks(),
      rate: new ActionRateGuard(),
      clock: shared.clock,
      instanceId: shared.instanceId,
      leaseMs: shared.leaseMs,
      cluster,
      clusterName,
      owns: (session) =>
        session.cluster === undefined
          ? isDefault
          : clusterName === undefined || session.cluster === clusterName,
      now: () => shared.clock().toISOString(),
      actorOf: (options = {}) => options.actor ?? dependencies.actor ?? 'kubemend',
    };
  }
}
