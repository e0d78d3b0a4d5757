/**
 * The execution engine: runs a plan's actions in order, each through the state machine of
 * `transitions.ts` — lock, snapshot, server-side dry-run, apply with the snapshot's resourceVersion,
 * verify, restore on failure (`apply.ts`, `restore.ts`). A failure stops the rest of the plan and
 * restores what it had applied, newest first. Every transition is recorded in the audit log.
 *
 * The engine holds only its ports; each `run` keeps its state in its own `RunContext`, so one
 * engine runs any number of plans at once.
 */
import { objectLabel, type RemediationAction } from '../domain/index.js';
import type { AuditRecorder } from '../audit/recorder.js';
import type { ClusterGateway, KubeObject } from '../cluster/gateway.js';
import { applyAction } from './apply.js';
import { TargetLocks } from './locks.js';
import { inspectAfterCrash, restore, restoreAfterCrash } from './restore.js';
import { type ActionReport, type ExecutionOutcome, reportOf } from './results.js';
import {
  ActionRun,
  type ExecutionPlan,
  type ExecutionPorts,
  RunContext,
  type TransitionRecord,
} from './run.js';

export interface EngineOptions {
  readonly gateway: ClusterGateway;
  readonly audit: AuditRecorder;
  readonly locks?: TargetLocks;
  readonly actor?: string;
  /** How long to wait before listing again after a failed list or watch. */
  readonly pollIntervalMs?: number;
  /**
   * How long a verified workload must stay healthy with no new restarts, for actions without a
   * verification plan (the planner gives every action one, from the evidence: ADR 0032).
   */
  readonly stabilityMs?: number;
  readonly clock?: () => Date;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told of every state transition of every action (tracing, tests). */
  readonly onTransition?: (change: TransitionRecord) => void;
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export class ExecutionEngine {
  private readonly ports: ExecutionPorts;

  constructor(options: EngineOptions) {
    this.ports = {
      gateway: options.gateway,
      audit: options.audit,
      locks: options.locks ?? new TargetLocks(),
      actor: options.actor ?? 'kubemend',
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      stabilityMs: options.stabilityMs ?? 10_000,
      clock: options.clock ?? (() => new Date()),
      sleep: options.sleep ?? defaultSleep,
      ...(options.onTransition ? { onTransition: options.onTransition } : {}),
    };
  }

  async run(plan: ExecutionPlan): Promise<ExecutionOutcome> {
    const ctx = new RunContext(this.ports, plan);
    let stopped = false;
    for (const action of plan.actions) {
      const run = new ActionRun(action, ctx.now());
      ctx.runs.push(run);
      if (stopped) {
        await ctx.skip(run, 'earlier-failure', 'not run: an earlier action of this session failed');
        continue;
      }
      await execute(ctx, run);
      await ctx.progress().catch(() => undefined);
      const succeeded =
        run.state === 'verified' ||
        run.state === 'skipped' ||
        (plan.dryRun === true && run.state === 'dry-run-passed');
      if (!succeeded) stopped = true;
    }
    if (stopped) {
      // Undo what this session applied, newest first.
      for (const run of [...ctx.runs].reverse()) {
        if (run.state === 'verified') await restore(ctx, run, 'a later action of this session failed');
      }
    }
    const now = ctx.now();
    const actions = ctx.runs.map((run) => reportOf(run, { dryRun: plan.dryRun === true, now }));
    return {
      actions,
      results: actions.map((report) => report.result),
      outcome: planOutcome(actions, plan.dryRun === true, stopped),
      changedCluster: actions.some((report) => report.changed),
    };
  }

  /** After a crash: restore an action's persisted snapshot and verify the restore. */
  restoreAfterCrash(
    sessionId: string,
    action: RemediationAction,
    snapshot: KubeObject | undefined,
    reason: string,
  ): Promise<ActionReport> {
    return restoreAfterCrash(this.ports, sessionId, action, snapshot, reason);
  }

  /** After a crash before the apply was recorded: did the change reach the cluster? */
  inspectAfterCrash(
    action: RemediationAction,
    snapshot: KubeObject,
    startedAt: string,
  ): Promise<'unchanged' | 'changed-by-kubemend' | 'changed-by-other'> {
    return inspectAfterCrash(this.ports.gateway, action, snapshot, startedAt);
  }
}

/** One action: skipped, refused by the lock, or locked and run; an unexpected error ends it safely. */
async function execute(ctx: RunContext, run: ActionRun): Promise<void> {
  const { locks } = ctx.ports;
  if (run.action.type === 'manual') {
    await ctx.skip(run, 'manual', 'manual action: for a person to carry out');
    return;
  }
  const lockKey = objectLabel(run.key);
  const sessionId = ctx.plan.sessionId;
  if (!locks.tryAcquire(lockKey, sessionId)) {
    const holder = locks.holder(lockKey);
    const message = `another remediation (session ${holder}) is changing ${lockKey}; nothing was done`;
    await ctx.skip(run, 'locked', message, holder);
    return;
  }
  try {
    await ctx.enter(run, 'lock-acquired');
    await applyAction(ctx, run);
  } catch (error) {
    // Audit failures and unexpected errors end the action safely, recorded where possible.
    run.message = error instanceof Error ? error.message : String(error);
    if (run.changed) {
      await ctx.enter(run, 'fault-after-change');
      await restore(ctx, run, run.message);
    } else {
      await ctx.enter(run, 'fault');
    }
  } finally {
    run.finishedAt = ctx.now();
    locks.release(lockKey, sessionId);
  }
}

function planOutcome(
  actions: readonly ActionReport[],
  dryRun: boolean,
  stopped: boolean,
): ExecutionOutcome['outcome'] {
  if (dryRun) return stopped ? 'failed' : 'dry-run';
  if (actions.every((a) => a.state === 'verified')) return 'verified';
  if (
    actions.some((a) => a.state === 'failed' || a.state === 'restore-failed' || a.state === 'outcome-unknown')
  )
    return 'failed';
  if (actions.some((a) => a.state === 'rolled-back')) return 'rolled-back';
  return 'skipped';
}
