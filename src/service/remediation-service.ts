/**
 * The one orchestration entry. Interfaces (CLI, HTTP, MCP) parse input, call this, and translate
 * errors. Every request is a session (SessionStore): analysed, then pending (actions await a
 * person), or executed as the mode and policy allow — dry-run, apply with precondition, verify,
 * roll back — with every step in the audit log.
 *
 * This class wires the parts, each in its own module: `requests.ts` (a new request, from session
 * to answer), `approvals.ts`, `execution-runner.ts` (execution under the lease), `session-state.ts`
 * (outcome → session state), `rate-guard.ts`, `reconciliation.ts` (crash recovery) and
 * `background.ts` (periodic reconciliation and the retention purge).
 */
import { randomUUID } from 'node:crypto';
import {
  KubemendError,
  type RemediateInput,
  type RemediateOutput,
  type ScanReport,
  type ScanRequest,
  type Target,
} from '../domain/index.js';
import { type AuditRecorder, InMemoryAuditRecorder } from '../audit/recorder.js';
import type { ClusterGateway } from '../cluster/gateway.js';
import { parseDuration } from '../planning/policy.js';
import { InMemorySessionStore } from '../sessions/in-memory-session-store.js';
import { type SessionRecord, type SessionStore, TERMINAL_STATES } from '../sessions/store.js';
import { type ApproveOptions, approveSession, rejectSession } from './approvals.js';
import { type BackgroundOptions, type BackgroundWork, startBackgroundWork } from './background.js';
import {
  type ServiceContext,
  type ServiceDependencies,
  type ServiceLogger,
  stderrLogger,
} from './context.js';
import { ClusterContexts } from './cluster-contexts.js';
import { reconcile, type ReconcileReport } from './reconciliation.js';
import { openSession, processRequest, type RemediateOptions, replay } from './requests.js';
import { describeTarget, scanNamespaces } from './scan.js';

export type { ApproveOptions } from './approvals.js';
export { planHashOf } from './approvals.js';
export type { BackgroundOptions, BackgroundWork } from './background.js';
export type { ServiceDependencies, ServiceLogger } from './context.js';
export { stderrLogger } from './context.js';
export type { Phase } from './phase.js';
export type { ReconcileReport } from './reconciliation.js';
export type { RemediateOptions } from './requests.js';

export class RemediationService {
  /** The default cluster's context (the one cluster's, with a single cluster). */
  private readonly context: ServiceContext;
  private readonly clusters: ClusterContexts;
  private readonly audit: AuditRecorder;
  private readonly newId: () => string;
  /** Where work nobody waits for (a background start, reconciliation, the purge) reports. */
  private logger: ServiceLogger;
  readonly instanceId: string;
  /** How long an executing session's owner may stay silent before another instance takes over. */
  readonly leaseMs: number;

  constructor(dependencies: ServiceDependencies) {
    const clock = dependencies.clock ?? (() => new Date());
    this.newId = dependencies.newId ?? randomUUID;
    this.logger = dependencies.logger ?? stderrLogger();
    this.instanceId = dependencies.instanceId ?? `kubemend-${randomUUID().slice(0, 8)}`;
    this.leaseMs = parseDuration(dependencies.configuration.storage.executionLease);
    this.audit = dependencies.audit ?? new InMemoryAuditRecorder(clock);
    this.clusters = new ClusterContexts(dependencies, {
      audit: this.audit,
      sessions: dependencies.sessions ?? new InMemorySessionStore(clock),
      clock,
      instanceId: this.instanceId,
      leaseMs: this.leaseMs,
    });
    this.context = this.clusters.default;
  }

  get auditRecorder(): AuditRecorder {
    return this.audit;
  }

  get sessionStore(): SessionStore {
    return this.context.sessions;
  }

  /** The cluster of a single-cluster kubemend (with several: the default one, once connected). */
  get cluster(): ClusterGateway | undefined {
    return this.clusters.several ? this.clusters.connectedDefault() : this.context.cluster();
  }

  /** The name sessions of a request for `cluster` carry (validates the name; does not connect). */
  async clusterNameFor(cluster?: string): Promise<string | undefined> {
    return (await this.clusters.for(cluster, { connect: false })).clusterName;
  }

  /** The gateway of a cluster, connected (`cluster-unreachable` when it does not answer). */
  async clusterGateway(cluster?: string): Promise<ClusterGateway | undefined> {
    return (await this.clusters.for(cluster)).cluster();
  }

  async session(id: string): Promise<SessionRecord | undefined> {
    return this.context.sessions.get(id);
  }

  /** Synchronous remediation: analyse, plan, execute what may run now, return the output. */
  async remediate(input: RemediateInput, options: RemediateOptions = {}): Promise<RemediateOutput> {
    if (input.approve && input.sessionId) {
      return this.approve(input.sessionId, {
        approver: this.context.actorOf(options),
        actionIds: input.approve,
        onProgress: options.onProgress,
      });
    }
    const replayed = await replay(this.context, options);
    if (replayed) return replayed;
    const context = await this.clusters.for(input.cluster);
    const session = await openSession(context, input, options, this.newId);
    return processRequest(context, session, input, options);
  }

  /**
   * Asynchronous remediation: create the session now, work in the background. If the work fails,
   * the failure is logged, recorded in the audit log (`session.failed`) and the session ends failed.
   */
  async start(input: RemediateInput, options: RemediateOptions = {}): Promise<SessionRecord> {
    if (input.approve && input.sessionId)
      throw new KubemendError('invalid-input', 'approve: use the approve call for an existing session');
    const replayed = options.idempotencyKey
      ? await this.context.sessions.findByIdempotencyKey(options.idempotencyKey)
      : undefined;
    if (replayed) {
      await replay(this.context, options);
      return replayed;
    }
    const context = await this.clusters.for(input.cluster);
    const session = await openSession(context, input, options, this.newId);
    void processRequest(context, session, input, options, true).catch((error: unknown) =>
      this.backgroundFailed(session.id, error, this.context.actorOf(options)),
    );
    return session;
  }

  /** Approve pending actions of a session and execute them (exactly once, whoever approves). */
  async approve(sessionId: string, options: ApproveOptions): Promise<RemediateOutput> {
    const session = await this.context.sessions.get(sessionId);
    if (!session) throw new KubemendError('session-not-found', `session ${sessionId} not found`);
    return approveSession(await this.clusters.forSession(session), sessionId, options);
  }

  async reject(sessionId: string, options: { approver: string; reason?: string }): Promise<SessionRecord> {
    const session = await this.context.sessions.get(sessionId);
    if (!session) throw new KubemendError('session-not-found', `session ${sessionId} not found`);
    return rejectSession(await this.clusters.forSession(session, { connect: false }), sessionId, options);
  }

  /**
   * Everything failing in the namespaces asked for, each with its category, cause and proposed
   * actions (planned in manual mode: nothing is executed). Read-only; no session is opened.
   */
  async scan(
    request: ScanRequest,
    options: { onProgress?: (message: string) => void } = {},
  ): Promise<ScanReport> {
    return scanNamespaces(await this.clusters.for(request.cluster), request, options);
  }

  /** The issue text of `analyze TYPE/NAME`: what the live object's status shows now. */
  async describeTarget(target: Target, cluster?: string): Promise<string> {
    return describeTarget(await this.clusters.for(cluster), target);
  }

  /**
   * Crash reconciliation, once (see `reconciliation.ts`): each cluster its own sessions. A cluster
   * that does not answer is reconciled on a later round; `deferred` counts its sessions.
   */
  async reconcile(): Promise<ReconcileReport> {
    if (!this.clusters.several) return reconcile(this.context);
    const sessions: Array<ReconcileReport['sessions'][number]> = [];
    let deferred = 0;
    for (const name of this.clusters.names()) {
      let context: ServiceContext;
      try {
        context = await this.clusters.for(name);
      } catch (error) {
        const waiting = (await this.context.sessions.list({ state: 'executing' })).filter(
          (session) => session.cluster === name,
        ).length;
        deferred += waiting;
        if (waiting > 0)
          this.logger.warn(
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

  /**
   * For a long-running process (`serve`, `mcp`): reconcile now, then every half lease, and purge
   * terminal sessions past `storage.retention` every hour. From now on every report of work nobody
   * waits for — including failed background starts — goes to `options.logger`.
   */
  startBackgroundWork(options: BackgroundOptions): Promise<BackgroundWork> {
    this.logger = options.logger;
    return startBackgroundWork(this.context, options, () => this.reconcile());
  }

  /** A background start failed: log it, record it, and end the session failed (never dropped). */
  private async backgroundFailed(sessionId: string, error: unknown, actor: string): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    this.logger.error({ session: sessionId, err: error }, `background remediation failed: ${message}`);
    try {
      const current = await this.context.sessions.get(sessionId);
      // Settled already, or another instance has taken it over: not ours to end.
      const ours =
        current &&
        !TERMINAL_STATES.includes(current.state) &&
        (current.state !== 'executing' || current.owner === this.instanceId);
      if (ours)
        await this.context.sessions.update(current.id, current.version, {
          phase: 'done',
          state: 'failed',
          owner: undefined,
        });
      await this.context.audit.record({
        type: 'session.failed',
        actor,
        sessionId,
        detail: {
          error: message,
          ...(error instanceof KubemendError ? { code: error.code } : {}),
          phase: current?.phase,
          markedFailed: ours === true,
        },
      });
    } catch (cause) {
      this.logger.error(
        { session: sessionId, err: cause },
        'could not record the failed background remediation',
      );
    }
  }
}
