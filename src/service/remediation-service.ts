/**
 * The one orchestration entry. Interfaces (CLI, HTTP, MCP) parse input, call this, and translate
 * errors. Every request is a session (SessionStore): analysed, then pending (actions await a
 * person), or executed as the mode and policy allow — dry-run, apply with precondition, verify,
 * roll back — with every step in the audit log. Approvals are bound to a hash of the plan and the
 * pending → executing transition is atomic, so two approvals execute once.
 */
import { randomUUID } from 'node:crypto';
import type {
  ExecutionResult,
  Mode,
  RemediateInput,
  RemediateOutput,
  RemediationAction,
} from '../domain/index.js';
import { KubemendError } from '../domain/index.js';
import type { AuditRecorder } from '../audit/recorder.js';
import { digest, InMemoryAuditRecorder } from '../audit/recorder.js';
import type { ClusterGateway, KubeObject } from '../cluster/gateway.js';
import type { LogSummary } from '../context/log-summary.js';
import type { Configuration } from '../config/configuration.js';
import { type PolicySet, selectPolicy } from '../config/policies.js';
import { ExecutionEngine } from '../execution/engine.js';
import { toExecutionResult } from '../execution/results.js';
import type { ActionRun } from '../execution/run.js';
import { TargetLocks } from '../execution/locks.js';
import { parseDuration, type Policy } from '../planning/policy.js';
import { InMemorySessionStore } from '../sessions/in-memory-session-store.js';
import type { SessionRecord, SessionState, SessionStore } from '../sessions/store.js';
import { type AiIntegration, analyzeRequest } from './analyze.js';
import { ExecutionLease, leaseExpired } from './execution-lease.js';

export interface ServiceDependencies {
  readonly configuration: Configuration;
  readonly policies: PolicySet;
  /** The cluster, when one is reachable; absent means offline. */
  readonly cluster?: ClusterGateway;
  readonly audit?: AuditRecorder;
  readonly sessions?: SessionStore;
  readonly ai?: AiIntegration;
  readonly locks?: TargetLocks;
  /** Who acts when the caller does not say (recorded in the audit log). */
  readonly actor?: string;
  /** This process, as recorded on sessions it executes (for crash reconciliation). */
  readonly instanceId?: string;
  readonly clock?: () => Date;
  readonly newId?: () => string;
  /** Execution engine tuning (tests shorten the stability window). */
  readonly engine?: { readonly pollIntervalMs?: number; readonly stabilityMs?: number };
}

export type Phase = 'queued' | 'gathering' | 'analyzing' | 'planning' | 'executing' | 'verifying' | 'done';

export interface RemediateOptions {
  /** A log summary computed while streaming the input; replaces `context.logs`. */
  readonly logs?: LogSummary;
  /** Who asked (recorded in the audit log). */
  readonly actor?: string;
  /** `Idempotency-Key`: the same key and body returns the same session. */
  readonly idempotencyKey?: string;
  /** Hash of the request body, compared for replays under the same key. */
  readonly requestHash?: string;
  /** Progress of a long run (MCP progress notifications, async session phases). */
  readonly onProgress?: (phase: Phase, message: string) => void;
  /** May this caller execute (approve or run automatic/hybrid)? Defaults to true. */
  readonly canExecute?: boolean;
}

export interface ApproveOptions {
  readonly approver: string;
  /** Approve only these actions (default: every action awaiting approval). */
  readonly actionIds?: readonly string[];
  /** The plan hash the approver saw; must match the session's. */
  readonly planHash?: string;
  readonly onProgress?: RemediateOptions['onProgress'];
}

export interface ReconcileReport {
  readonly sessions: ReadonlyArray<{
    readonly id: string;
    readonly state: SessionState;
    readonly note: string;
  }>;
  /** Sessions another instance is executing and whose lease is still fresh: left alone for now. */
  readonly deferred: number;
}

/** Per-target cooldown and per-hour action budget (policy `cooldown`, `maxActionsPerHour`). */
class ActionRateGuard {
  private readonly lastChange = new Map<string, number>();
  private readonly recent: number[] = [];

  check(action: RemediationAction, policy: Policy, now: number): string | undefined {
    const key = targetLabel(action);
    const last = this.lastChange.get(key);
    if (last !== undefined && now - last < parseDuration(policy.cooldown)) {
      return `${key} was changed ${Math.round((now - last) / 1000)}s ago; the policy's cooldown is ${policy.cooldown}`;
    }
    while (this.recent.length > 0 && now - this.recent[0]! > 3_600_000) this.recent.shift();
    if (this.recent.length >= policy.maxActionsPerHour)
      return `the policy allows ${policy.maxActionsPerHour} actions per hour`;
    return undefined;
  }

  note(action: RemediationAction, now: number): void {
    this.lastChange.set(targetLabel(action), now);
    this.recent.push(now);
  }
}

function targetLabel(action: RemediationAction): string {
  return `${action.target.kind}/${action.target.namespace ? `${action.target.namespace}/` : ''}${action.target.name}`;
}

/** The plan an approval is bound to: the actions as proposed (decisions excluded). */
export function planHashOf(actions: readonly RemediationAction[]): string {
  return digest(actions.map(({ decision: _decision, ...action }) => action));
}

/** Keep a stored request bounded: a huge log array is cut to its first and last lines. */
function storableInput(input: RemediateInput): RemediateInput {
  const logs = input.context?.logs;
  if (!logs || logs.length <= 400) return input;
  return {
    ...input,
    context: {
      ...input.context,
      logs: [...logs.slice(0, 100), `… ${logs.length - 300} lines omitted …`, ...logs.slice(-200)],
    },
  };
}

export class RemediationService {
  private readonly dependencies: ServiceDependencies;
  private readonly clock: () => Date;
  private readonly newId: () => string;
  private readonly audit: AuditRecorder;
  private readonly sessions: SessionStore;
  private readonly locks: TargetLocks;
  private readonly rate = new ActionRateGuard();
  readonly instanceId: string;
  /** How long an executing session's owner may stay silent before another instance takes over. */
  readonly leaseMs: number;

  constructor(dependencies: ServiceDependencies) {
    this.dependencies = dependencies;
    this.clock = dependencies.clock ?? (() => new Date());
    this.newId = dependencies.newId ?? randomUUID;
    this.audit = dependencies.audit ?? new InMemoryAuditRecorder(this.clock);
    this.sessions = dependencies.sessions ?? new InMemorySessionStore(this.clock);
    this.locks = dependencies.locks ?? new TargetLocks();
    this.instanceId = dependencies.instanceId ?? `kubemend-${randomUUID().slice(0, 8)}`;
    this.leaseMs = parseDuration(dependencies.configuration.storage.executionLease);
  }

  get auditRecorder(): AuditRecorder {
    return this.audit;
  }

  get sessionStore(): SessionStore {
    return this.sessions;
  }

  get cluster(): ClusterGateway | undefined {
    return this.dependencies.configuration.cluster.offline ? undefined : this.dependencies.cluster;
  }

  async session(id: string): Promise<SessionRecord | undefined> {
    return this.sessions.get(id);
  }

  /** Synchronous remediation: analyse, plan, execute what may run now, return the output. */
  async remediate(input: RemediateInput, options: RemediateOptions = {}): Promise<RemediateOutput> {
    if (input.approve && input.sessionId) {
      return this.approve(input.sessionId, {
        approver: options.actor ?? this.actorOf(),
        actionIds: input.approve,
        onProgress: options.onProgress,
      });
    }
    const replay = await this.replay(options);
    if (replay) return replay;
    const session = await this.open(input, options);
    return this.process(session, input, options);
  }

  /** Asynchronous remediation: create the session now, work in the background. */
  async start(input: RemediateInput, options: RemediateOptions = {}): Promise<SessionRecord> {
    if (input.approve && input.sessionId)
      throw new KubemendError('invalid-input', 'approve: use the approve call for an existing session');
    const replayed = options.idempotencyKey
      ? await this.sessions.findByIdempotencyKey(options.idempotencyKey)
      : undefined;
    if (replayed) {
      await this.replay(options);
      return replayed;
    }
    const session = await this.open(input, options);
    void this.process(session, input, options, true).catch(async (error: unknown) => {
      const current = await this.sessions.get(session.id);
      if (current)
        await this.sessions
          .update(current.id, current.version, { phase: 'done', state: 'failed', owner: undefined })
          .catch(() => undefined);
      void error;
    });
    return session;
  }

  /** Approve pending actions of a session and execute them (exactly once, whoever approves). */
  async approve(sessionId: string, options: ApproveOptions): Promise<RemediateOutput> {
    const session = await this.sessions.get(sessionId);
    if (!session) throw new KubemendError('session-not-found', `session ${sessionId} not found`);
    if (!session.output)
      throw new KubemendError('session-state', `session ${sessionId} is still being analysed`);
    if (session.state !== 'pending') {
      throw new KubemendError(
        'session-state',
        `session ${sessionId} is ${session.state}; only a pending session can be approved`,
      );
    }
    if (options.planHash && options.planHash !== session.planHash) {
      throw new KubemendError(
        'plan-changed',
        `the plan of session ${sessionId} changed since it was shown (plan hash ${session.planHash}); review it again`,
      );
    }
    const waiting = session.output.remediation.actions.filter(
      (a) => a.decision?.decision === 'await-approval' || a.decision?.decision === 'execute',
    );
    const chosen = options.actionIds ? waiting.filter((a) => options.actionIds!.includes(a.id)) : waiting;
    const unknown = (options.actionIds ?? []).filter((id) => !waiting.some((a) => a.id === id));
    if (unknown.length > 0)
      throw new KubemendError(
        'invalid-input',
        `actionIds: ${unknown.join(', ')} not awaiting approval in session ${sessionId}`,
      );
    if (chosen.length === 0) throw new KubemendError('invalid-input', 'actionIds: nothing to approve');
    if (!this.cluster)
      throw new KubemendError(
        'cluster-unreachable',
        'no cluster is connected: approved actions cannot be executed',
      );

    const approval = {
      approver: options.approver,
      at: this.now(),
      actionIds: chosen.map((a) => a.id),
      planHash: session.planHash ?? '',
    };
    // Atomic: of two concurrent approvals, one moves pending → approved; the other finds it gone.
    const approved = await this.sessions.transition(sessionId, ['pending'], 'approved', {
      approvals: [...session.approvals, approval],
    });
    if (!approved)
      throw new KubemendError(
        'session-state',
        `session ${sessionId} was approved or changed concurrently; it executes once`,
      );
    for (const action of chosen) {
      await this.audit.record({
        type: 'action.approved',
        actor: options.approver,
        sessionId,
        actionId: action.id,
        target: targetLabel(action),
        detail: { planHash: session.planHash },
      });
    }
    const executing = await this.sessions.transition(sessionId, ['approved'], 'executing', {
      owner: this.instanceId,
      phase: 'executing',
    });
    if (!executing)
      throw new KubemendError('session-state', `session ${sessionId} was taken by another process`);
    const { policy } = selectPolicy(this.dependencies.policies, session.input.policy);
    return this.execute(
      executing,
      session.output,
      chosen,
      policy,
      options.approver,
      session.input.dryRun === true,
      options.onProgress,
    );
  }

  async reject(sessionId: string, options: { approver: string; reason?: string }): Promise<SessionRecord> {
    const session = await this.sessions.get(sessionId);
    if (!session) throw new KubemendError('session-not-found', `session ${sessionId} not found`);
    const rejected = await this.sessions.transition(sessionId, ['pending', 'analyzed'], 'rejected', {
      rejection: { approver: options.approver, at: this.now(), reason: options.reason },
      phase: 'done',
    });
    if (!rejected)
      throw new KubemendError(
        'session-state',
        `session ${sessionId} is ${session.state}; only a pending session can be rejected`,
      );
    await this.audit.record({
      type: 'session.rejected',
      actor: options.approver,
      sessionId,
      detail: { reason: options.reason },
    });
    return rejected;
  }

  /**
   * Reconciliation (at start-up and every half lease): a session left `executing` by an instance
   * whose lease has lapsed is claimed (a versioned write: one claimant wins, and the old owner's
   * next write fails), then checked against the audit log and the cluster. A change that was
   * applied — or may have been: the dry-run was persisted, the crash came before the apply was
   * recorded, and kubemend's field manager wrote the object since — is restored from the snapshot
   * persisted before it. A change that never reached the cluster, or an object someone else has
   * changed since, is left as it is. What was done is recorded.
   */
  async reconcile(): Promise<ReconcileReport> {
    const report: Array<{ id: string; state: SessionState; note: string }> = [];
    let deferred = 0;
    for (const found of await this.sessions.list({ state: 'executing' })) {
      if (found.owner === this.instanceId) continue;
      // Another instance may still be working on it: take over only once its lease has lapsed.
      if (!leaseExpired(found, this.clock().getTime(), this.leaseMs)) {
        deferred++;
        continue;
      }
      let claimed: SessionRecord;
      try {
        claimed = await this.sessions.update(found.id, found.version, {
          owner: this.instanceId,
          phase: 'reconciling',
        });
      } catch (error) {
        if (error instanceof KubemendError && error.code === 'session-conflict') continue;
        throw error;
      }
      const lease = new ExecutionLease(this.sessions, claimed, this.leaseMs);
      try {
        const { state, note, results } = await this.settleInterrupted(claimed);
        await lease.write({ state, results, phase: 'done', owner: undefined });
        await this.audit.record({
          type: 'session.reconciled',
          actor: 'kubemend-reconciler',
          sessionId: claimed.id,
          detail: { state, note },
        });
        report.push({ id: claimed.id, state, note });
      } finally {
        await lease.release();
      }
    }
    return { sessions: report, deferred };
  }

  /** What an interrupted execution left in the cluster, restored where it was kubemend's change. */
  private async settleInterrupted(
    session: SessionRecord,
  ): Promise<{ state: SessionState; note: string; results: ExecutionResult[] }> {
    const results = [...session.results];
    const actionOf = (id: string) => session.output?.remediation.actions.find((a) => a.id === id);
    const recorded = new Set(
      (await this.audit.list({ sessionId: session.id }))
        .filter((record) => record.type === 'action.applied')
        .map((record) => record.actionId),
    );
    const applied = results.filter(
      (r) =>
        r.status === 'applied' ||
        (r.status === 'failed' && /unknown/.test(r.message)) ||
        (r.status === 'dry-run' && recorded.has(r.actionId)),
    );
    // Dry-run passed and persisted, then silence: the apply may or may not have landed.
    const uncertain =
      session.input.dryRun === true
        ? []
        : results.filter((r) => r.status === 'dry-run' && r.before !== undefined && !applied.includes(r));
    const cluster = this.cluster;
    if (!cluster) {
      return applied.length + uncertain.length > 0
        ? {
            state: 'failed',
            note: 'interrupted during a change; no cluster connected to check or restore it — restore the snapshots in results[].before if the change is in the cluster',
            results,
          }
        : { state: 'failed', note: 'interrupted before any change was applied', results };
    }
    const engine = this.engineFor(cluster, 'kubemend-reconciler');
    const notes: string[] = [];
    const toRestore = [...applied];
    for (const result of uncertain) {
      const action = actionOf(result.actionId);
      if (!action) continue;
      const seen = await engine.inspectAfterCrash(action, result.before as KubeObject, result.startedAt);
      const index = results.indexOf(result);
      if (seen === 'changed-by-kubemend') {
        toRestore.push(result);
      } else if (seen === 'unchanged') {
        results[index] = {
          ...result,
          status: 'failed',
          message:
            'kubemend stopped between the dry-run and the apply; the object still matches the snapshot',
        };
        notes.push(`${result.actionId}: not applied`);
      } else {
        results[index] = {
          ...result,
          status: 'failed',
          message:
            'kubemend stopped between the dry-run and the apply; the object has since been changed by someone else and was left as it is',
        };
        notes.push(`${result.actionId}: changed by someone else, left as it is`);
      }
    }
    let allRestored = true;
    for (const result of toRestore) {
      const action = actionOf(result.actionId);
      if (!action) continue;
      const restored = await engine.restoreAfterCrash(
        session.id,
        action,
        result.before as KubeObject | undefined,
        'kubemend stopped during this change',
      );
      results[results.findIndex((r) => r.actionId === result.actionId)] = {
        ...restored.result,
        before: result.before,
      };
      notes.push(`${action.id}: ${restored.result.status}`);
      if (restored.state !== 'rolled-back') allRestored = false;
    }
    if (toRestore.length === 0)
      return {
        state: 'failed',
        note:
          notes.length > 0
            ? `interrupted before the change reached the cluster (${notes.join(', ')})`
            : 'interrupted before any change was applied',
        results,
      };
    return {
      state: allRestored ? 'rolled-back' : 'failed',
      note: `interrupted after a change; restored from the persisted snapshot (${notes.join(', ')})`,
      results,
    };
  }

  // -------------------------------------------------------------------------------------------

  private actorOf(options: { actor?: string } = {}): string {
    return options.actor ?? this.dependencies.actor ?? 'kubemend';
  }

  private now(): string {
    return this.clock().toISOString();
  }

  /** Idempotency: the same key and body returns the stored result; another body is an error. */
  private async replay(options: RemediateOptions): Promise<RemediateOutput | undefined> {
    if (!options.idempotencyKey) return undefined;
    const existing = await this.sessions.findByIdempotencyKey(options.idempotencyKey);
    if (!existing) return undefined;
    if (options.requestHash && existing.requestHash && options.requestHash !== existing.requestHash) {
      throw new KubemendError(
        'idempotency-mismatch',
        `Idempotency-Key ${options.idempotencyKey} was used with a different request body`,
      );
    }
    if (!existing.output || existing.phase !== 'done') {
      throw new KubemendError(
        'session-conflict',
        `a request with Idempotency-Key ${options.idempotencyKey} is still in flight (session ${existing.id})`,
      );
    }
    return existing.output;
  }

  private async open(input: RemediateInput, options: RemediateOptions): Promise<SessionRecord> {
    const id = input.sessionId ?? this.newId();
    const actor = this.actorOf(options);
    try {
      const session = await this.sessions.create({
        id,
        state: 'analyzed',
        phase: 'queued',
        createdAt: this.now(),
        actor,
        input: storableInput(input),
        approvals: [],
        results: [],
        idempotencyKey: options.idempotencyKey,
        requestHash: options.requestHash,
      });
      await this.audit.record({
        type: 'session.created',
        actor,
        sessionId: id,
        detail: {
          mode: input.mode ?? 'manual',
          policy: input.policy ?? 'default',
          dryRun: input.dryRun === true,
        },
      });
      return session;
    } catch (error) {
      if (error instanceof KubemendError && error.code === 'session-conflict' && options.idempotencyKey) {
        throw new KubemendError(
          'session-conflict',
          `a request with Idempotency-Key ${options.idempotencyKey} is already in flight`,
        );
      }
      throw error;
    }
  }

  private async setPhase(
    session: SessionRecord,
    phase: Phase,
    message: string,
    options: RemediateOptions,
  ): Promise<SessionRecord> {
    options.onProgress?.(phase, message);
    return this.sessions.update(session.id, session.version, { phase });
  }

  private async process(
    opened: SessionRecord,
    input: RemediateInput,
    options: RemediateOptions,
    background = false,
  ): Promise<RemediateOutput> {
    const actor = this.actorOf(options);
    const { policy, name: policyName } = selectPolicy(this.dependencies.policies, input.policy);
    let requestedMode: Mode = input.mode ?? 'manual';
    if (options.canExecute === false && requestedMode !== 'manual') {
      throw new KubemendError(
        'forbidden',
        `mode: ${requestedMode} executes changes and needs the remediate:execute scope`,
      );
    }
    const firstPhase: Phase = this.cluster ? 'gathering' : 'analyzing';
    // A synchronous caller waits for the answer; only an asynchronous one polls the phase.
    let session = background
      ? await this.setPhase(opened, firstPhase, this.cluster ? 'reading the cluster' : 'analysing', options)
      : opened;
    if (!background) options.onProgress?.(firstPhase, this.cluster ? 'reading the cluster' : 'analysing');
    const analysed = await analyzeRequest(
      { configuration: this.dependencies.configuration, cluster: this.cluster, ai: this.dependencies.ai },
      input,
      {
        logs: options.logs,
        policy,
        policyName,
        requestedMode,
        onPhase: (phase, message) => options.onProgress?.(phase, message),
      },
    );
    requestedMode = analysed.mode;

    const now = this.clock().getTime();
    const actions = analysed.remediation.actions.map((action) => {
      if (action.decision?.decision !== 'execute') return action;
      const blocked = this.rate.check(action, policy, now);
      return blocked
        ? { ...action, decision: { decision: 'await-approval' as const, reason: blocked } }
        : action;
    });
    // The analysis and every proposal in one atomic append.
    await this.audit.recordAll([
      {
        type: 'analysis.completed',
        actor,
        sessionId: session.id,
        detail: {
          category: analysed.analysis.category,
          confidence: analysed.analysis.confidence,
          source: analysed.analysis.source,
          ...(analysed.ai ? { ai: analysed.ai } : {}),
        },
      },
      ...actions.map((action) => ({
        type:
          action.decision?.decision === 'denied' ? ('policy.denied' as const) : ('action.proposed' as const),
        actor,
        sessionId: session.id,
        actionId: action.id,
        target: targetLabel(action),
        detail: { type: action.type, risk: action.risk, decision: action.decision },
      })),
    ]);
    const remediation = { ...analysed.remediation, actions };
    const toExecute = actions.filter((action) => action.decision?.decision === 'execute');
    const waiting = actions.some((action) => action.decision?.decision === 'await-approval');
    const planHash = planHashOf(actions);
    const baseOutput: RemediateOutput = {
      status: waiting || toExecute.length > 0 ? 'pending' : 'success',
      sessionId: session.id,
      analysis: analysed.analysis,
      remediation,
      executed: false,
      notices: analysed.notices,
    };

    const cluster = this.cluster;
    if (!cluster || toExecute.length === 0) {
      let output = baseOutput;
      if (!cluster && toExecute.length > 0) {
        const stamp = this.now();
        output = {
          ...baseOutput,
          results: toExecute.map((action) => ({
            actionId: action.id,
            status: 'skipped' as const,
            message: input.dryRun
              ? 'dry run requested and no cluster connected: nothing was changed'
              : `would execute now (${action.decision?.reason ?? ''}); not executed: no cluster connection (offline)`,
            startedAt: stamp,
            finishedAt: stamp,
          })),
        };
      }
      const state: SessionState = output.status === 'pending' ? 'pending' : 'analyzed';
      session = await this.sessions.update(session.id, session.version, {
        state,
        output,
        planHash,
        phase: 'done',
        results: output.results ?? [],
      });
      options.onProgress?.('done', `session ${session.id} ${state}`);
      return output;
    }

    session = await this.sessions.update(session.id, session.version, { output: baseOutput, planHash });
    const executing = await this.sessions.transition(session.id, ['analyzed'], 'executing', {
      owner: this.instanceId,
      phase: 'executing',
    });
    if (!executing)
      throw new KubemendError('session-state', `session ${session.id} changed while it was analysed`);
    return this.execute(
      executing,
      baseOutput,
      toExecute,
      policy,
      actor,
      input.dryRun === true,
      options.onProgress,
    );
  }

  private engineFor(cluster: ClusterGateway, actor: string): ExecutionEngine {
    return new ExecutionEngine({
      gateway: cluster,
      audit: this.audit,
      locks: this.locks,
      actor,
      clock: this.clock,
      ...this.dependencies.engine,
    });
  }

  /** Execute chosen actions of an `executing` session; persist progress; end in a final state. */
  private async execute(
    session: SessionRecord,
    output: RemediateOutput,
    actions: readonly RemediationAction[],
    policy: Policy,
    actor: string,
    dryRun: boolean,
    onProgress?: RemediateOptions['onProgress'],
  ): Promise<RemediateOutput> {
    const cluster = this.cluster;
    if (!cluster) throw new KubemendError('cluster-unreachable', 'no cluster is connected');
    const lease = new ExecutionLease(this.sessions, session, this.leaseMs);
    try {
      const persist = async (runs: readonly ActionRun[]): Promise<void> => {
        const results = runs.map((run) =>
          toExecutionResult(run, { dryRun, now: this.now(), inProgress: true }),
        );
        await lease.write({ results });
        const last = runs.at(-1);
        if (last)
          onProgress?.(
            last.state === 'applied' ? 'verifying' : 'executing',
            `${last.action.id}: ${last.state}`,
          );
      };
      onProgress?.('executing', `executing ${actions.length} action(s)`);
      const outcome = await this.engineFor(cluster, actor).run({
        sessionId: session.id,
        actions,
        dryRun,
        verifyTimeoutMs: parseDuration(policy.verifyTimeout),
        onProgress: persist,
      });
      for (const result of outcome.results) {
        const action = actions.find((a) => a.id === result.actionId);
        if (
          action &&
          (result.status === 'verified' || result.status === 'rolled-back' || result.status === 'applied')
        )
          this.rate.note(action, this.clock().getTime());
      }
      const failed = outcome.outcome === 'failed' || outcome.outcome === 'rolled-back';
      const locked = outcome.actions.some((report) => report.skipReason === 'locked');
      const stillWaiting = output.remediation.actions.some(
        (a) => a.decision?.decision === 'await-approval' && !actions.some((x) => x.id === a.id),
      );
      const status: RemediateOutput['status'] = failed
        ? 'failed'
        : locked || stillWaiting
          ? 'pending'
          : 'success';
      const state: SessionState =
        outcome.outcome === 'verified'
          ? stillWaiting
            ? 'pending'
            : 'verified'
          : outcome.outcome === 'rolled-back'
            ? 'rolled-back'
            : outcome.outcome === 'dry-run'
              ? stillWaiting
                ? 'pending'
                : 'analyzed'
              : locked
                ? 'pending'
                : 'failed';
      const results: ExecutionResult[] = [
        ...(output.results ?? []).filter((r) => !outcome.results.some((x) => x.actionId === r.actionId)),
        ...outcome.results,
      ];
      const final: RemediateOutput = {
        ...output,
        status,
        executed: outcome.changedCluster || output.executed === true,
        results,
      };
      await lease.write({
        state,
        output: final,
        results,
        phase: 'done',
        owner: undefined,
      });
      await this.audit.record({
        type: 'session.completed',
        actor,
        sessionId: session.id,
        detail: { state, results: results.map((r) => ({ id: r.actionId, status: r.status })) },
      });
      onProgress?.('done', `session ${session.id} ${state}`);
      return final;
    } finally {
      await lease.release();
    }
  }
}
