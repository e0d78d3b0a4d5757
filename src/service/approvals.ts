/**
 * Approving and rejecting a pending session. An approval is bound to a hash of the plan the
 * approver saw, and pending → executing (the approval recorded on the way) is one atomic
 * transition together with its audit records, so of two concurrent approvals exactly one executes,
 * and a failed audit write leaves the session pending.
 */
import { digest, KubemendError, type RemediateOutput, type RemediationAction } from '../domain/index.js';
import { selectPolicy } from '../config/policies.js';
import { actionLabel } from '../execution/run.js';
import type { SessionRecord } from '../sessions/store.js';
import type { ServiceContext } from './context.js';
import { rejectionOutcomes } from './history.js';
import { executeSession } from './execution-runner.js';
import type { ProgressListener } from './phase.js';

export interface ApproveOptions {
  readonly approver: string;
  /** Approve only these actions (default: every action awaiting approval). */
  readonly actionIds?: readonly string[];
  /** The plan hash the approver saw; must match the session's. */
  readonly planHash?: string;
  /** Why the approver approved (recorded with the approval and in the audit log). */
  readonly note?: string;
  readonly onProgress?: ProgressListener;
}

/** The plan an approval is bound to: the actions as proposed (decisions excluded). */
export function planHashOf(actions: readonly RemediationAction[]): string {
  return digest(actions.map(({ decision: _decision, ...action }) => action));
}

/** The actions of a pending session `options` approves; throws when the approval cannot stand. */
function chosenActions(session: SessionRecord, options: ApproveOptions): RemediationAction[] {
  const sessionId = session.id;
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
  return chosen;
}

/** An approval that has moved its session to `executing`, ready to run. */
export interface BegunApproval {
  /** The session, `executing` and owned by this instance. */
  readonly session: SessionRecord;
  /** The session's output before execution (analysis, plan, earlier results). */
  readonly output: RemediateOutput;
  readonly actions: readonly RemediationAction[];
}

/** Approve pending actions of a session and execute them (exactly once, whoever approves). */
export async function approveSession(
  ctx: ServiceContext,
  sessionId: string,
  options: ApproveOptions,
): Promise<RemediateOutput> {
  return runApproval(ctx, await beginApproval(ctx, sessionId, options), options);
}

/**
 * Checks the approval (state, plan hash, action ids, a cluster to execute on, the audit chain),
 * records it and moves the session pending → executing in one transaction. Nothing is applied yet.
 */
export async function beginApproval(
  ctx: ServiceContext,
  sessionId: string,
  options: ApproveOptions,
): Promise<BegunApproval> {
  const session = await ctx.sessions.get(sessionId);
  if (!session) throw new KubemendError('session-not-found', `session ${sessionId} not found`);
  const chosen = chosenActions(session, options);
  if (!ctx.cluster())
    throw new KubemendError(
      'cluster-unreachable',
      'no cluster is connected: approved actions cannot be executed',
    );

  ctx.integrity.assertMayExecute();
  const approval = {
    approver: options.approver,
    at: ctx.now(),
    actionIds: chosen.map((a) => a.id),
    planHash: session.planHash ?? '',
    ...(options.note ? { note: options.note } : {}),
  };
  // Atomic: of two concurrent approvals, one moves pending → executing, with its approval records
  // in the same transaction; the other finds it gone. If the records cannot be written, the
  // session stays pending (and can be approved again).
  const executing = await ctx.sessions.transition(
    sessionId,
    ['pending'],
    'executing',
    { approvals: [...session.approvals, approval], owner: ctx.instanceId, phase: 'executing' },
    {
      audit: chosen.map((action) => ({
        type: 'action.approved' as const,
        actor: options.approver,
        sessionId,
        actionId: action.id,
        target: actionLabel(action),
        detail: { planHash: session.planHash, ...(options.note ? { note: options.note } : {}) },
      })),
    },
  );
  if (!executing)
    throw new KubemendError(
      'session-state',
      `session ${sessionId} was approved or changed concurrently; it executes once`,
    );
  return { session: executing, output: session.output!, actions: chosen };
}

/** Executes a begun approval to the end (verify, or restore). */
export function runApproval(
  ctx: ServiceContext,
  begun: BegunApproval,
  options: ApproveOptions,
): Promise<RemediateOutput> {
  const { policy } = selectPolicy(ctx.dependencies.policies, begun.session.input.policy);
  return executeSession(ctx, {
    session: begun.session,
    output: begun.output,
    actions: begun.actions,
    policy,
    actor: options.approver,
    dryRun: begun.session.input.dryRun === true,
    onProgress: options.onProgress,
  });
}

export async function rejectSession(
  ctx: ServiceContext,
  sessionId: string,
  options: { approver: string; reason?: string },
): Promise<SessionRecord> {
  const session = await ctx.sessions.get(sessionId);
  if (!session) throw new KubemendError('session-not-found', `session ${sessionId} not found`);
  // A session rejected before it had an answer releases its Idempotency-Key: a retry runs again.
  const unanswered = session.output === undefined;
  const at = ctx.now();
  const rejected = await ctx.sessions.transition(
    sessionId,
    ['pending', 'analyzed'],
    'rejected',
    {
      rejection: { approver: options.approver, at, reason: options.reason },
      phase: 'done',
      owner: undefined,
      ...(unanswered ? { idempotencyKey: undefined } : {}),
    },
    {
      audit: [
        {
          type: 'session.rejected',
          actor: options.approver,
          sessionId,
          detail: {
            reason: options.reason,
            ...(unanswered && session.idempotencyKey ? { idempotencyKeyReleased: true } : {}),
          },
        },
      ],
      outcomes: rejectionOutcomes(session.output, at),
    },
  );
  if (!rejected)
    throw new KubemendError(
      'session-state',
      `session ${sessionId} is ${session.state}; only a pending session can be rejected`,
    );
  return rejected;
}
