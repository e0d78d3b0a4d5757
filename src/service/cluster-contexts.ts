/**
 * One `ServiceContext` per cluster. With one cluster (no `clusters:`), every request uses the same
 * context. With several, a request's `cluster` picks one: its gateway (connected on first use,
 * behind its own circuit breaker), its policies, its target locks and rate guard, and audit records
 * stamped with its name; the stores, the leases, the audit integrity and the in-flight set are
 * shared. A cluster that is down fails its own requests with `cluster-unreachable`; the others never
 * wait for it. ADR 0038.
 */
import { coalescedReads } from '../cluster/coalesced-reads.js';
import type { ClusterGateway } from '../cluster/gateway.js';
import { KubemendError } from '../domain/index.js';
import { TargetLocks } from '../execution/locks.js';
import type { SessionRecord } from '../sessions/store.js';
import { auditWithCluster, sessionsWithCluster } from './cluster-audit.js';
import type { ServiceContext, ServiceDependencies, ServiceLogger } from './context.js';
import { ActionRateGuard } from './rate-guard.js';
import { reconcile, type ReconcileReport } from './reconciliation.js';

export class ClusterContexts {
  /** The context of the one cluster, or of the default cluster of several. */
  private readonly single: ServiceContext;
  private readonly byName = new Map<
    string,
    { readonly context: ServiceContext; readonly holder: { gateway?: ClusterGateway } }
  >();

  /** `base`: the service's context for its one (or default) cluster, without a cluster name. */
  constructor(
    private readonly dependencies: ServiceDependencies,
    private readonly base: ServiceContext,
  ) {
    this.single = this.derive(base, dependencies.clusterName);
  }

  /** Several clusters are configured. */
  get several(): boolean {
    return this.dependencies.clusters !== undefined;
  }

  /** The default context (the one cluster's), without connecting. */
  get default(): ServiceContext {
    return this.single;
  }

  /** Every configured cluster's name (none with one cluster). */
  names(): readonly string[] {
    return this.dependencies.clusters?.names ?? [];
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
      let coalesced: { of: ClusterGateway; reads: ClusterGateway } | undefined;
      const context = this.derive(
        {
          ...this.base,
          dependencies: {
            ...this.dependencies,
            policies: this.dependencies.clusterPolicies?.get(name) ?? this.dependencies.policies,
            clusterName: name,
          },
          locks: new TargetLocks(),
          rate: new ActionRateGuard(),
          cluster: () => holder.gateway,
          analysisCluster: () => {
            if (!holder.gateway) return undefined;
            if (coalesced?.of !== holder.gateway)
              coalesced = { of: holder.gateway, reads: coalescedReads(holder.gateway) };
            return coalesced.reads;
          },
        },
        name,
      );
      entry = { context, holder };
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

  /** The one cluster's gateway; with several, the default one's once a request has connected it. */
  defaultGateway(): ClusterGateway | undefined {
    const name = this.dependencies.clusters?.defaultName;
    if (name === undefined) return this.single.cluster();
    return this.byName.get(name)?.holder.gateway;
  }

  /** The context of a stored session's cluster, by the session's id. */
  async forSessionId(id: string, options: { connect?: boolean } = {}): Promise<ServiceContext> {
    const session = await this.base.sessions.get(id);
    if (!session) throw new KubemendError('session-not-found', `session ${id} not found`);
    return this.forSession(session, options);
  }

  /**
   * Crash reconciliation: each cluster its own sessions. A cluster that does not answer is
   * reconciled on a later round; `deferred` counts its sessions.
   */
  async reconcileAll(logger: ServiceLogger): Promise<ReconcileReport> {
    if (!this.several) return reconcile(this.single);
    const sessions: Array<ReconcileReport['sessions'][number]> = [];
    let deferred = 0;
    for (const name of this.names()) {
      let context: ServiceContext;
      try {
        context = await this.for(name);
      } catch (error) {
        const waiting = (await this.base.sessions.list({ state: 'executing' })).filter(
          (session) => session.cluster === name,
        ).length;
        deferred += waiting;
        if (waiting > 0)
          logger.warn(
            { cluster: name, err: error },
            `${waiting} interrupted session(s) of cluster ${name} wait until it answers`,
          );
        continue;
      }
      const report = await reconcile(context);
      sessions.push(...report.sessions);
      deferred += report.deferred;
    }
    return { sessions, deferred };
  }

  private derive(from: ServiceContext, clusterName: string | undefined): ServiceContext {
    const isDefault =
      this.dependencies.clusters === undefined || clusterName === this.dependencies.clusters.defaultName;
    return {
      ...from,
      audit: auditWithCluster(from.audit, clusterName),
      sessions: sessionsWithCluster(from.sessions, clusterName),
      events: from.events.forCluster(clusterName),
      clusterName,
      owns: (session) =>
        session.cluster === undefined
          ? isDefault
          : clusterName === undefined || session.cluster === clusterName,
    };
  }
}
