/**
 * The outcome history at the service's edges (docs/learning.md): read before planning — one query,
 * bounded by the policy's windows — and the records an execution or a rejection produces, written
 * with the session change that produced them.
 */
import type { Category, RemediateOutput, RemediationAction } from '../domain/index.js';
import { workloadOf } from '../learning/effects.js';
import { HISTORY_LIMIT, type OutcomeHistory, type OutcomeRecord } from '../learning/history.js';
import { parseDuration, type Policy } from '../planning/policy.js';
import type { ServiceContext } from './context.js';

/** How far back `policy` reads the outcome history. */
export function learningWindowMs(policy: Policy): number {
  return Math.max(parseDuration(policy.learning.lookback), parseDuration(policy.learning.holdAfterRollback));
}

/**
 * The outcome records to keep: as long as sessions (`storage.retention`), and never fewer than the
 * longest window any policy of any cluster reads.
 */
export function outcomeRetentionMs(ctx: ServiceContext, sessionRetentionMs: number): number {
  const sets = [ctx.dependencies.policies, ...(ctx.dependencies.clusterPolicies?.values() ?? [])];
  const windows = sets.flatMap((set) => Object.values(set.policies).map(learningWindowMs));
  return Math.max(sessionRetentionMs, ...windows);
}

/** The history the planner may use for `category` under `policy`; undefined when learning is off. */
export async function readHistory(
  ctx: ServiceContext,
  category: Category,
  policy: Policy,
): Promise<OutcomeHistory | undefined> {
  if (!policy.learning.enabled) return undefined;
  const now = ctx.clock();
  const windowMs = learningWindowMs(policy);
  const records = await ctx.sessions.outcomes({
    category,
    since: new Date(now.getTime() - windowMs).toISOString(),
    limit: HISTORY_LIMIT,
  });
  return { asOf: now.toISOString(), records };
}

function record(
  output: RemediateOutput,
  action: RemediationAction,
  outcome: OutcomeRecord['outcome'],
  at: string,
): OutcomeRecord {
  return {
    category: output.analysis.category,
    actionType: action.type,
    workload: workloadOf(action.target),
    outcome,
    at,
    sessionId: output.sessionId,
    actionId: action.id,
  };
}

/** Verified and rolled-back actions of an execution. */
export function executionOutcomes(
  output: RemediateOutput,
  actions: readonly RemediationAction[],
  statuses: ReadonlyArray<{ readonly actionId: string; readonly status: string }>,
  at: string,
): OutcomeRecord[] {
  return statuses.flatMap(({ actionId, status }) => {
    const action = actions.find((candidate) => candidate.id === actionId);
    if (!action || (status !== 'verified' && status !== 'rolled-back')) return [];
    return [record(output, action, status, at)];
  });
}

/** A rejected session: every executable action that waited for a person was rejected. */
export function rejectionOutcomes(output: RemediateOutput | undefined, at: string): OutcomeRecord[] {
  if (!output) return [];
  return output.remediation.actions
    .filter((action) => action.type !== 'manual' && action.decision?.decision === 'await-approval')
    .map((action) => record(output, action, 'rejected', at));
}
