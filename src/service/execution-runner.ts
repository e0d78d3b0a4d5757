/**
 * Executing the chosen actions of a session that is `executing`: under the execution lease, with
 * progress persisted as the engine goes, ending in the state `sessionAfterExecution` gives.
 */
import {
  type ExecutionResult,
  KubemendError,
  type RemediateOutput,
  type RemediationAction,
} from '../domain/index.js';
import type { ClusterGateway } from '../cluster/gateway.js';
import { ExecutionEngine } from '../execution/engine.js';
import { toExecutionResult } from '../execution/results.js';
import type { ActionRun } from '../execution/run.js';
import { parseDuration, type Policy } from '../planning/policy.js';
import type { SessionRecord } from '../sessions/store.js';
import type { ServiceContext } from './context.js';
import { ExecutionLease } from './execution-lease.js';
import type { ProgressListener } from './phase.js';
import { executionOutcomes } from './history.js';
import { sessionAfterExecution } from './session-state.js';

export function engineFor(ctx: ServiceContext, cluster: ClusterGateway, actor: string): ExecutionEngine {
  return new ExecutionEngine({
    gateway: cluster,
    audit: ctx.audit,
    locks: ctx.locks,
    actor,
    clock: ctx.clock,
    ...ctx.dependencies.engine,
  });
}

export interface ExecutionRequest {
  /** The session, already moved to `executing` and owned by this instance. */
  readonly session: SessionRecord;
  /** The output so far (analysis, plan, earlier results). */
  readonly output: RemediateOutput;
  readonly actions: readonly RemediationAction[];
  readonly policy: Policy;
  readonly actor: string;
  readonly dryRun: boolean;
  readonly onProgress?: ProgressListener;
}

/** Execute chosen actions of an `executing` session; persist progress; end in a final state. */
export async function executeSession(
  ctx: ServiceContext,
  request: ExecutionRequest,
): Promise<RemediateOutput> {
  const { session, output, actions, actor, dryRun, onProgress } = request;
  const cluster = ctx.cluster();
  if (!cluster) throw new KubemendError('cluster-unreachable', 'no cluster is connected');
  const lease = new ExecutionLease(ctx.sessions, session, ctx.leaseMs);
  ctx.leases.add(lease);
  ctx.inFlight.add(session.id);
  try {
    const persist = async (runs: readonly ActionRun[]): Promise<void> => {
      const results = runs.map((run) => toExecutionResult(run, { dryRun, now: ctx.now(), inProgress: true }));
      await lease.write({ results });
      const last = runs.at(-1);
      if (last)
        onProgress?.(
          last.state === 'applied' ? 'verifying' : 'executing',
          `${last.action.id}: ${last.state}`,
        );
    };
    onProgress?.('executing', `executing ${actions.length} action(s)`);
    const outcome = await engineFor(ctx, cluster, actor).run({
      sessionId: session.id,
      actions,
      dryRun,
      requireDryRun: request.policy.requireDryRun,
      verifyTimeoutMs: parseDuration(request.policy.verifyTimeout),
      onProgress: persist,
    });
    for (const report of outcome.actions) {
      const action = actions.find((a) => a.id === report.actionId);
      const status = report.result.status;
      if (action && (status === 'verified' || status === 'rolled-back' || status === 'applied'))
        ctx.rate.note(action, ctx.clock().getTime());
    }
    const stillWaiting = output.remediation.actions.some(
      (a) => a.decision?.decision === 'await-approval' && !actions.some((x) => x.id === a.id),
    );
    const { state, status } = sessionAfterExecution({
      outcome: outcome.outcome,
      actions: outcome.actions,
      stillWaiting,
    });
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
    // The final state, its record and the outcome history commit together.
    await lease.write(
      { state, output: final, results, phase: 'done', owner: undefined },
      [
        {
          type: 'session.completed',
          actor,
          sessionId: session.id,
          detail: { state, results: results.map((r) => ({ id: r.actionId, status: r.status })) },
        },
      ],
      executionOutcomes(final, actions, outcome.results, ctx.now()),
    );
    onProgress?.('done', `session ${session.id} ${state}`);
    return final;
  } finally {
    ctx.leases.delete(lease);
    await lease.release();
    ctx.inFlight.delete(session.id);
  }
}
