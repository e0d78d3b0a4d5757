/**
 * What a request's analysis decides, before anything is written: the analysis (read-only), each
 * action's decision after mode, policy and the rate guard, the audit records of the analysis and
 * every proposal, and — when nothing executes now — the answer and the session's final state.
 * The caller writes it: onto the session it opened first (`requests.ts`), or as the one write of
 * a request that needs no session before its answer (`answerInOneWrite`).
 */
import type { AuditEntry } from '../audit/recorder.js';
import { selectPolicy } from '../config/policies.js';
import type { Category, Mode, RemediateInput, RemediateOutput, RemediationAction } from '../domain/index.js';
import { actionLabel } from '../execution/run.js';
import type { Policy } from '../planning/policy.js';
import type { SessionState } from '../sessions/store.js';
import { analyzeRequest } from './analyze.js';
import { planHashOf } from './approvals.js';
import type { ServiceContext } from './context.js';
import { readHistory } from './history.js';
import type { RemediateOptions } from './requests.js';

export interface Decision {
  readonly actor: string;
  readonly policy: Policy;
  readonly shadow: boolean;
  readonly category: Category;
  /** The analysis and every proposal, to be written with the session's next state. */
  readonly records: AuditEntry[];
  /** The answer before any execution. */
  readonly baseOutput: RemediateOutput;
  readonly planHash: string;
  /** The actions mode, policy and rate guard let run now. */
  readonly toExecute: RemediationAction[];
}

export async function decide(
  ctx: ServiceContext,
  input: RemediateInput,
  options: RemediateOptions,
  sessionId: string,
): Promise<Decision> {
  const actor = ctx.actorOf(options);
  const { policy, name: policyName } = selectPolicy(ctx.dependencies.policies, input.policy);
  const requestedMode: Mode = input.mode ?? 'manual';
  const analysed = await analyzeRequest(
    {
      configuration: ctx.dependencies.configuration,
      cluster: ctx.analysisCluster(),
      ai: ctx.dependencies.ai,
      scan: ctx.dependencies.scan,
      history: (category) => readHistory(ctx, category, policy),
    },
    input,
    { logs: options.logs, policy, policyName, requestedMode, onPhase: options.onProgress },
  );

  const now = ctx.clock().getTime();
  const shadow = analysed.mode === 'shadow';
  const actions = analysed.remediation.actions.map((action) => {
    // Shadow mode applies nothing: the rate of changes does not limit its dry-runs.
    if (action.decision?.decision !== 'execute' || shadow) return action;
    const blocked = ctx.rate.check(action, policy, now);
    return blocked
      ? { ...action, decision: { decision: 'await-approval' as const, reason: blocked } }
      : action;
  });
  const records: AuditEntry[] = [
    {
      type: 'analysis.completed',
      actor,
      sessionId,
      detail: {
        category: analysed.analysis.category,
        confidence: analysed.analysis.confidence,
        source: analysed.analysis.source,
        ...(analysed.analysis.target ? { target: analysed.analysis.target.chosenBy } : {}),
        ...(analysed.ai ? { ai: analysed.ai } : {}),
        ...(analysed.history ? { history: analysed.history.effects } : {}),
      },
    },
    ...actions.map((action) => ({
      type:
        action.decision?.decision === 'denied' ? ('policy.denied' as const) : ('action.proposed' as const),
      actor,
      sessionId,
      actionId: action.id,
      target: actionLabel(action),
      detail: { type: action.type, risk: action.risk, decision: action.decision },
    })),
  ];
  const toExecute = actions.filter((action) => action.decision?.decision === 'execute');
  const waiting = actions.some((action) => action.decision?.decision === 'await-approval');
  return {
    actor,
    policy,
    shadow,
    category: analysed.analysis.category,
    records,
    planHash: planHashOf(actions),
    toExecute,
    baseOutput: {
      status: analysed.failed ? 'failed' : waiting || toExecute.length > 0 ? 'pending' : 'success',
      sessionId,
      analysis: analysed.analysis,
      remediation: { ...analysed.remediation, actions },
      executed: false,
      notices: analysed.notices,
      ...(analysed.history ? { history: analysed.history } : {}),
    },
  };
}

/**
 * The answer when nothing executes now: the decision as it stands — with, when no cluster is
 * connected, each action that would have run reported skipped and why — and the session's state.
 */
export function settle(
  ctx: ServiceContext,
  input: RemediateInput,
  decision: Decision,
): { output: RemediateOutput; state: SessionState } {
  let output = decision.baseOutput;
  if (!ctx.cluster() && decision.toExecute.length > 0) {
    const stamp = ctx.now();
    output = {
      ...output,
      results: decision.toExecute.map((action) => ({
        actionId: action.id,
        status: 'skipped' as const,
        message: decision.shadow
          ? 'shadow mode and no cluster connected: nothing was dry-run or observed'
          : input.dryRun
            ? 'dry run requested and no cluster connected: nothing was changed'
            : `would execute now (${action.decision?.reason ?? ''}); not executed: no cluster connection (offline)`,
        startedAt: stamp,
        finishedAt: stamp,
      })),
    };
  }
  const state: SessionState =
    output.status === 'pending' ? 'pending' : output.status === 'failed' ? 'failed' : 'analyzed';
  return { output, state };
}

/** After the settled session is written: its event and the last progress note. */
export function settled(
  ctx: ServiceContext,
  options: RemediateOptions,
  decision: Decision,
  state: SessionState,
): void {
  if (state === 'pending' || state === 'failed')
    ctx.events.emit({ type: 'remediation', category: decision.category, outcome: state });
  options.onProgress?.('done', `session ${decision.baseOutput.sessionId} ${state}`);
}
