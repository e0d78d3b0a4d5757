/**
 * The one orchestration entry. Interfaces (CLI, HTTP, MCP) parse input, call this, and translate
 * errors. Every request is a session (SessionStore): analysed, then pending (actions await a
 * person), or executed as the mode and policy allow — dry-run, apply with precondition, verify,
 * roll back — with every step in the audit log.
 *
 * This class wires the parts, each in its own module: `requests.ts` (a new request, from session
 * to answer), `approvals.ts`, `execution-runner.ts` (execution under the lease), `session-state.ts`
 * (outcome → session state), `rate-guard.ts`, `reconciliation.ts` (crash recovery), `background.ts`
 * (periodic reconciliation, retention purge), `cluster-contexts.ts` (one context per cluster).
 */
import { randomUUID } from 'node:crypto';
import {
  executesUnattended,
  KubemendError,
  type RemediateInput,
  type RemediateOutput,
  type ScanReport,
  type ScanRequest,
  type Target,
} from '../domain/index.js';
import { type AuditRecorder, InMemoryAuditRecorder } from '../audit/recorder.js';
import { coalescedReads } from '../cluster/coalesced-reads.js';
import type { ClusterGateway } from '../cluster/gateway.js';
import { TargetLocks } from '../execution/locks.js';
import { parseDuration } from '../planning/policy.js';
import { InMemorySessionStore } from '../sessions/in-memory-session-store.js';
import type { SessionRecord, SessionStore } from '../sessions/store.js';
import {
  type ApproveOptions,
  approveSession,
  beginApproval,
  rejectSession,
  runApproval,
} from './approvals.js';
import { type BackgroundOptions, type BackgroundWork, startBackgroundWork } from './background.js';
import {
  type ServiceContext,
  type ServiceDependencies,
  type ServiceLogger,
  stderrLogger,
} from './context.js';
import { AuditIntegrity, type ChainStatus } from './audit-integrity.js';
import { ClusterContexts } from './cluster-contexts.js';
import { ActionRateGuard } from './rate-guard.js';
import { type ServiceEventListener, ServiceEvents } from './events.js';
import { WorkQueue } from './work-queue.js';
import { type ActionPreview, PreviewCache, previewAction } from './preview.js';
import {
  checkRequest,
  findByIdempotencyKey,
  recordRequestFailure,
  answerInOneWrite,
  answersInOneWrite,
  openSession,
  processRequest,
  type RemediateOptions,
  replay,
} from './requests.js';
import { describeTarget, scanNamespaces } from './scan.js';
import { observeShadowSessions } from './shadow.js';
import type { Report } from '../reports/report.js';
import type { ReportRange } from '../reports/range.js';
import { buildReport } from './report.js';

export type { ApproveOptions } from './approvals.js';
export { planHashOf } from './approvals.js';
export type { BackgroundOptions, BackgroundWork } from './background.js';
export type { ServiceDependencies, ServiceLogger } from './context.js';
export { stderrLogger } from './context.js';
export type { Phase } from './phase.js';
export type { ActionPreview, ObjectView } from './preview.js';
export type { ReconcileReport } from './reconciliation.js';
export type { RemediationOutcome, ServiceEvent, ServiceEventListener } from './events.js';
export { REMEDIATION_OUTCOMES } from './events.js';
export type { RemediateOptions } from './requests.js';

/** What `stop` did at the deadline. */
export interface StopReport {
  /** Queued asynchronous remediations that never started (their sessions ended failed). */
  readonly abandoned: number;
  /** Sessions whose execution was still running, handed over to another instance. */
  readonly handedOver: readonly string[];
  /** Asynchronous remediations still analysing (their sessions ended failed, recorded). */
  readonly interrupted: number;
}

export class RemediationService {
  /** The default cluster's context (the one cluster's, with a single cluster). */
  private readonly context: ServiceContext;
  /** One context per cluster (`clusters:`); requests pick theirs by `cluster`. */
  private readonly clusters: ClusterContexts;
  private readonly newId: () => string;
  /** Asynchronous remediations: bounded, fair across callers (`server.asyncQueue`). */
  private readonly queue: WorkQueue;
  /** Asynchronous remediations running now: session id → actor. */
  private readonly runningStarts = new Map<string, string>();
  private readonly previews = new PreviewCache();
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
    this.queue = new WorkQueue(dependencies.configuration.server.asyncQueue);
    const sessions =
      dependencies.sessions ??
      new InMemorySessionStore(
        clock,
        dependencies.audit instanceof InMemoryAuditRecorder ? dependencies.audit : undefined,
      );
    const audit = dependencies.audit ?? sessions.audit;
    if (audit !== sessions.audit)
      throw new KubemendError(
        'configuration-invalid',
        "the audit log must be the session store's own (sessions.audit): a state change and its audit record commit together",
      );
    const { onBrokenChain } = dependencies.configuration.audit;
    const analysisCluster = dependencies.cluster && coalescedReads(dependencies.cluster);
    const base: ServiceContext = {
      dependencies,
      audit,
      sessions,
      locks: dependencies.locks ?? new TargetLocks(),
      rate: new ActionRateGuard(),
      clock,
      instanceId: this.instanceId,
      leaseMs: this.leaseMs,
      leases: new Set(),
      integrity: new AuditIntegrity(audit, onBrokenChain, () => this.logger, clock),
      inFlight: new Set(),
      events: new ServiceEvents(),
      cluster: () => (dependencies.configuration.cluster.offline ? undefined : dependencies.cluster),
      analysisCluster: () => (dependencies.configuration.cluster.offline ? undefined : analysisCluster),
      now: () => clock().toISOString(),
      actorOf: (options = {}) => options.actor ?? dependencies.actor ?? 'kubemend',
      owns: () => true,
    };
    this.clusters = new ClusterContexts(dependencies, base);
    this.context = this.clusters.default;
  }

  get auditRecorder(): AuditRecorder {
    return this.context.audit;
  }

  get sessionStore(): SessionStore {
    return this.context.sessions;
  }

  /** The cluster of a single-cluster kubemend (with several: the default one, once connected). */
  get cluster(): ClusterGateway | undefined {
    return this.clusters.defaultGateway();
  }

  /** The name sessions of a request for `cluster` carry (validates the name; does not connect). */
  clusterNameFor = async (cluster?: string) =>
    (await this.clusters.for(cluster, { connect: false })).clusterName;

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
    this.refuseExecutionIfChainBroken(input);
    const replayed = await replay(this.context, options);
    if (replayed) return replayed;
    const context = await this.clusters.for(input.cluster);
    checkRequest(context, input, options);
    if (answersInOneWrite(context, input, options))
      return answerInOneWrite(context, input, options, this.newId);
    const session = await openSession(context, input, options, this.newId);
    try {
      return await processRequest(context, session, input, options);
    } catch (error) {
      await this.requestFailed(session.id, error, this.context.actorOf(options), false);
      throw error;
    }
  }

  /**
   * Asynchronous remediation: create the session now, work in the background — queued fairly
   * among callers, refused (`queue-full`, `rate-limited`, `shutting-down`) before anything is
   * stored when the queue has no room. If the work fails, the failure is logged, recorded in the
   * audit log (`session.failed`) and the session ends failed.
   */
  async start(input: RemediateInput, options: RemediateOptions = {}): Promise<SessionRecord> {
    if (input.approve && input.sessionId)
      throw new KubemendError('invalid-input', 'approve: use the approve call for an existing session');
    this.refuseExecutionIfChainBroken(input);
    const replayed = await findByIdempotencyKey(this.context, options);
    if (replayed) {
      await replay(this.context, options);
      return replayed;
    }
    const context = await this.clusters.for(input.cluster);
    checkRequest(context, input, options);
    const actor = this.context.actorOf(options);
    const ticket = this.queue.reserve(actor);
    let session: SessionRecord;
    try {
      session = await openSession(context, input, options, this.newId);
    } catch (error) {
      ticket.cancel();
      throw error;
    }
    const stopped = new KubemendError(
      'shutting-down',
      'kubemend stopped before it analysed this request; send it again',
    );
    this.queue.run(ticket, {
      start: () => {
        this.runningStarts.set(session.id, actor);
        return processRequest(context, session, input, options, true)
          .then(
            () => undefined,
            (error: unknown) => this.requestFailed(session.id, error, actor, true),
          )
          .finally(() => this.runningStarts.delete(session.id));
      },
      abandon: () => this.requestFailed(session.id, stopped, actor, true),
    });
    return session;
  }

  /**
   * Stopping (SIGTERM): no new asynchronous work from now on; queued and running work and the
   * executions under way get until `deadline` (epoch ms). Then queued work that never started ends
   * failed (recorded), and executions still running hand their session over
   * (`handed-over:<instance>`) so another instance's reconciliation takes it over at its next round
   * instead of after a whole lease; asynchronous work still analysing ends failed (recorded), as
   * the process is about to exit.
   */
  async stop(deadline: number): Promise<StopReport> {
    this.queue.close();
    const remaining = () => Math.max(0, deadline - Date.now());
    const settled = await this.queue.settled(remaining());
    const abandoned = settled ? 0 : await this.queue.discardWaiting();
    while (this.context.leases.size > 0 && remaining() > 0)
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, remaining())));
    const handedOver: string[] = [];
    const executing = new Set([...this.context.leases].map((lease) => lease.session.id));
    for (const lease of [...this.context.leases]) {
      try {
        await lease.handOver(this.instanceId);
        handedOver.push(lease.session.id);
      } catch (error) {
        this.logger.error({ session: lease.session.id, err: error }, 'could not hand the session over');
      }
    }
    for (const id of handedOver)
      this.logger.warn(
        { session: id },
        'execution still running at the shutdown deadline: session handed over to the next reconciliation',
      );
    // Analyses still running die with the process: their sessions end failed now, recorded.
    // (An execution is never marked failed here: reconciliation must still restore what it applied.)
    const interrupted = [...this.runningStarts].filter(([id]) => !executing.has(id));
    const cut = new KubemendError(
      'shutting-down',
      'kubemend stopped while it analysed this request; send it again',
    );
    await Promise.all(interrupted.map(([id, actor]) => this.requestFailed(id, cut, actor, true)));
    return { abandoned, handedOver, interrupted: interrupted.length };
  }

  /** Approve pending actions of a session and execute them (exactly once, whoever approves). */
  async approve(sessionId: string, options: ApproveOptions): Promise<RemediateOutput> {
    return approveSession(await this.clusters.forSessionId(sessionId), sessionId, options);
  }

  /**
   * Approve like `approve`, but return as soon as the session is `executing`: the execution goes on
   * in the background (a failure is logged and audited as `session.failed`; an execution that
   * failed half-way is left to reconciliation, which restores its snapshots). Refusals — another
   * plan hash, another state, a broken audit chain — are thrown before.
   */
  async startApproval(sessionId: string, options: ApproveOptions): Promise<SessionRecord> {
    const context = await this.clusters.forSessionId(sessionId);
    const begun = await beginApproval(context, sessionId, options);
    void runApproval(context, begun, options).catch((error: unknown) =>
      this.requestFailed(sessionId, error, options.approver, true),
    );
    return begun.session;
  }

  /**
   * What an action of a session would change (server-side dry-run of the target as it is now), or
   * did change (its snapshot and the object now). A read: nothing is persisted or audited.
   */
  async preview(sessionId: string, actionId: string): Promise<ActionPreview> {
    return previewAction(await this.clusters.forSessionId(sessionId), this.previews, sessionId, actionId);
  }

  async reject(sessionId: string, options: { approver: string; reason?: string }): Promise<SessionRecord> {
    return rejectSession(await this.clusters.forSessionId(sessionId, { connect: false }), sessionId, options);
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

  /** The report over sessions created in `range` (see `report.ts`). */
  report(range: ReportRange): Promise<Report> {
    return buildReport(this.context, range);
  }

  /** One round of the shadow observer (see `shadow.ts`); returns how many sessions it settled. */
  observeShadow(): Promise<number> {
    return observeShadowSessions(this.context, this.logger, (session) => this.clusters.forSession(session));
  }

  /** Crash reconciliation, once (see `reconciliation.ts`): each cluster its own sessions. */
  reconcile() {
    return this.clusters.reconcileAll(this.logger);
  }

  /**
   * For a long-running process (`serve`, `mcp`): reconcile now, then every half lease, and purge
   * terminal sessions past `storage.retention` every hour. From now on every report of work nobody
   * waits for — including failed background starts — goes to `options.logger`.
   */
  startBackgroundWork(options: BackgroundOptions): Promise<BackgroundWork> {
    this.logger = options.logger;
    return startBackgroundWork(this.context, options, {
      reconcile: () => this.reconcile(),
      observeShadow: () => this.observeShadow(),
    });
  }

  /** Tells `listener` of every remediation, action, rollback and shadow outcome as it ends. */
  onEvent(listener: ServiceEventListener): () => void {
    return this.context.events.on(listener);
  }

  /** Whether the audit chain holds (the last verification). */
  auditChainStatus(): ChainStatus {
    return this.context.integrity.status();
  }

  /** Throws (naming the first broken record) while the audit chain is known to be broken. */
  assertAuditChainValid(): void {
    const status = this.context.integrity.status();
    if (status.state !== 'broken') return;
    const broken = status.firstBroken;
    throw new KubemendError(
      'audit-chain-broken',
      `broken${broken ? ` at record ${broken.sequence}: ${broken.reason}` : ''}`,
    );
  }

  /** Verifies the audit records appended since the last check (all of them the first time). */
  verifyAuditChain(): Promise<ChainStatus> {
    return this.context.integrity.check();
  }

  /** Automatic and hybrid requests execute: refused up front while the chain is broken. */
  private refuseExecutionIfChainBroken(input: RemediateInput): void {
    if (executesUnattended(input.mode)) this.context.integrity.assertMayExecute();
  }

  private requestFailed(
    sessionId: string,
    error: unknown,
    actor: string,
    background: boolean,
  ): Promise<void> {
    return recordRequestFailure(this.context, this.logger, { sessionId, error, actor, background });
  }
}
