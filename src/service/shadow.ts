/**
 * Shadow mode in the service (ADR 0035): the record a shadow session keeps once its dry-runs are
 * done, and the observer — background work like reconciliation — that watches the targets of
 * `observing` sessions until a person changes them or `shadow.window` is over, then settles the
 * session `observed` with its outcome (compare-and-set: of several replicas, one settles it). All
 * state is in the store: a restart in the middle of a window continues it.
 */
import type { RemediateOutput, RemediationAction, ShadowObservation } from '../domain/index.js';
import { checkHealth } from '../execution/health-check.js';
import { workloadOf } from '../learning/effects.js';
import type { OutcomeRecord } from '../learning/history.js';
import type { ActionReport } from '../execution/results.js';
import { actionLabel, keyOf } from '../execution/run.js';
import { parseDuration } from '../planning/policy.js';
import type { SessionRecord } from '../sessions/store.js';
import { compareWithProposal } from '../shadow/compare.js';
import { type RoundResult, settle, startObservation, writersSince } from '../shadow/observation.js';
import type { ServiceContext, ServiceLogger } from './context.js';

/** The shadow record of a session whose dry-runs just ran. */
export function shadowObservationOf(
  ctx: ServiceContext,
  output: RemediateOutput,
  actions: readonly RemediationAction[],
  reports: readonly ActionReport[],
): ShadowObservation {
  const windowMs = parseDuration(ctx.dependencies.configuration.shadow.window);
  return startObservation(
    output.analysis.category,
    actions.map((action) => {
      const report = reports.find((entry) => entry.actionId === action.id);
      return {
        actionId: action.id,
        type: action.type,
        target: actionLabel(action),
        kind: action.target.kind,
        ...(action.target.namespace !== undefined ? { namespace: action.target.namespace } : {}),
        name: action.target.name,
        passed: report?.state === 'dry-run-passed',
        message: report?.result.message ?? 'not run',
        before: report?.objects?.before,
        dryRun: report?.objects?.dryRun,
      };
    }),
    ctx.clock(),
    windowMs,
  );
}

/** Metrics and other observers learn how an execution ended (whatever path ran it). */
export function announceExecution(
  ctx: ServiceContext,
  ended: {
    readonly session: SessionRecord;
    readonly output: RemediateOutput;
    readonly actions: readonly RemediationAction[];
    readonly reports: readonly ActionReport[];
    readonly state: SessionRecord['state'];
  },
): void {
  const category = ended.output.analysis.category;
  for (const report of ended.reports) {
    const action = ended.actions.find((entry) => entry.id === report.actionId);
    if (!action) continue;
    ctx.events.emit({ type: 'action', actionType: action.type, status: report.result.status });
    if (report.state === 'rolled-back') ctx.events.emit({ type: 'rollback', actionType: action.type });
  }
  switch (ended.state) {
    case 'verified':
      ctx.events.emit({
        type: 'remediation',
        category,
        outcome: 'fixed',
        secondsToFix: (ctx.clock().getTime() - Date.parse(ended.session.createdAt)) / 1000,
      });
      return;
    case 'rolled-back':
    case 'failed':
    case 'pending':
      ctx.events.emit({ type: 'remediation', category, outcome: ended.state });
      return;
    default:
      return;
  }
}

/** The observing sessions looked at per round (oldest windows first among the newest sessions). */
const ROUND_LIMIT = 500;

/**
 * One round: each observing session's targets are read once — from the cluster the session is
 * about (`contextOf`; with several clusters, its own) — and compared with the proposals; a session
 * a person changed, or whose window is over, is settled. Returns how many were settled. A session
 * whose cluster cannot be reached now is left for a later round.
 */
export async function observeShadowSessions(
  ctx: ServiceContext,
  logger?: ServiceLogger,
  contextOf: (session: SessionRecord) => Promise<ServiceContext> = async () => ctx,
): Promise<number> {
  const sessions = await ctx.sessions.list({ state: 'observing', limit: ROUND_LIMIT });
  let settled = 0;
  for (const session of sessions) {
    try {
      if (await observeOne(await contextOf(session), session)) settled++;
    } catch (error) {
      logger?.warn({ session: session.id, err: error }, 'shadow observation failed; retried next round');
    }
  }
  return settled;
}

async function observeOne(ctx: ServiceContext, session: SessionRecord): Promise<boolean> {
  const cluster = ctx.cluster();
  const observation = session.shadow;
  if (!cluster || !observation) return false;
  const actions = session.output?.remediation.actions ?? [];
  const comparisons: Array<RoundResult['comparisons'][number]> = [];
  for (const recorded of observation.actions) {
    if (recorded.dryRun !== 'passed') continue;
    const action = actions.find((entry) => entry.id === recorded.actionId);
    if (!action) continue;
    const key =
      action.type === 'create'
        ? {
            kind: recorded.kind,
            name: recorded.name,
            ...(recorded.namespace !== undefined ? { namespace: recorded.namespace } : {}),
          }
        : keyOf(action);
    const live = await cluster.get(key);
    const changedBy = writersSince(live, observation.startedAt);
    comparisons.push({
      actionId: recorded.actionId,
      comparison: compareWithProposal({
        type: recorded.type,
        before: recorded.before,
        proposed: recorded.after,
        observed: live,
        changedBy,
      }),
      changedBy,
    });
  }
  const now = ctx.clock();
  const windowOver = now.getTime() >= Date.parse(observation.windowEndsAt);
  const personChanged = comparisons.some((entry) => entry.comparison.verdict !== 'unchanged');
  let health: { healthy: boolean; detail: string } | undefined;
  const subject = actions.find((entry) => entry.id === observation.actions[0]?.actionId);
  if (windowOver && !personChanged && subject) health = await checkHealth(cluster, keyOf(subject));
  const next = settle(
    observation,
    {
      comparisons,
      windowOver,
      ...(health ? { healthy: health.healthy, healthDetail: health.detail } : {}),
    },
    now,
  );
  if (!next?.outcome) return false;
  // matched / contradicted feed the outcome history (docs/learning.md), in the same transaction.
  const outcomes: OutcomeRecord[] = next.actions.flatMap((recorded) => {
    const action = actions.find((entry) => entry.id === recorded.actionId);
    const outcome = recorded.outcome;
    if (!action || (outcome !== 'matched' && outcome !== 'contradicted')) return [];
    return [
      {
        category: next.category,
        actionType: action.type,
        workload: workloadOf(action.target),
        outcome,
        at: now.toISOString(),
        sessionId: session.id,
        actionId: action.id,
      },
    ];
  });
  const done = await ctx.sessions.transition(
    session.id,
    ['observing'],
    'observed',
    { shadow: next },
    {
      audit: [
        {
          type: 'shadow.observed',
          actor: 'kubemend',
          sessionId: session.id,
          detail: {
            outcome: next.outcome,
            detail: next.detail,
            actions: next.actions.map((action) => ({
              id: action.actionId,
              type: action.type,
              outcome: action.outcome,
              ...(action.changedBy ? { changedBy: action.changedBy } : {}),
            })),
          },
        },
      ],
      ...(outcomes.length > 0 ? { outcomes } : {}),
    },
  );
  if (!done) return false;
  for (const action of next.actions)
    if (action.outcome)
      ctx.events.emit({
        type: 'shadow',
        category: next.category,
        actionType: action.type,
        outcome: action.outcome,
      });
  return true;
}
