/**
 * Crash reconciliation (at start-up and every half lease). Unanswered sessions of a dead process
 * (`settleUnanswered`) end failed and release their Idempotency-Key. A session left `executing` by an
 * instance whose lease has lapsed is claimed (a versioned write: one claimant wins, and the old
 * owner's next write fails), then checked against the audit log and the cluster. A change that was
 * applied — or may have been — is restored from the snapshot persisted before it. A change that
 * never reached the cluster, or an object someone else has changed since, is left as it is. What
 * was done is recorded. Decisions come from typed data only: the persisted result's status and the
 * types of the action's audit records, never from message text.
 */
import { type ExecutionResult, KubemendError, type RemediationAction } from '../domain/index.js';
import type { AuditEntry, AuditRecord, AuditType } from '../audit/recorder.js';
import type { KubeObject } from '../cluster/gateway.js';
import type { SessionRecord, SessionState } from '../sessions/store.js';
import type { ServiceContext } from './context.js';
import { ExecutionLease, leaseExpired } from './execution-lease.js';
import { engineFor } from './execution-runner.js';

export interface ReconcileReport {
  readonly sessions: ReadonlyArray<{
    readonly id: string;
    readonly state: SessionState;
    readonly note: string;
  }>;
  /** Sessions another instance is executing and whose lease is still fresh: left alone for now. */
  readonly deferred: number;
}

/** What the audit log says about an action's change, by the last record that decides it. */
export type AuditedChange = 'applied' | 'unknown' | 'not-applied' | 'restored';

const DECIDING: Partial<Record<AuditType, AuditedChange>> = {
  'action.applied': 'applied',
  'action.outcome-unknown': 'unknown',
  'action.restore-failed': 'unknown',
  'action.apply-failed': 'not-applied',
  'action.dry-run-failed': 'not-applied',
  'action.rolled-back': 'restored',
};

/** The audited change of each action of a session (actions with no deciding record are absent). */
export function auditedChanges(records: readonly AuditRecord[]): Map<string, AuditedChange> {
  const changes = new Map<string, AuditedChange>();
  for (const record of records) {
    const change = DECIDING[record.type];
    if (change && record.actionId !== undefined) changes.set(record.actionId, change);
  }
  return changes;
}

/** What reconciliation does with one persisted result of an interrupted session. */
export type Settlement = 'restore' | 'inspect' | 'leave';

export function settlementOf(
  result: Pick<ExecutionResult, 'status' | 'before'>,
  audited: AuditedChange | undefined,
  dryRunSession: boolean,
): Settlement {
  switch (result.status) {
    case 'applied':
      return 'restore';
    case 'dry-run':
      // Dry-run passed and persisted, then silence: the apply may or may not have landed.
      if (audited === 'applied') return 'restore';
      return !dryRunSession && result.before !== undefined ? 'inspect' : 'leave';
    case 'failed':
      // Ended failed with the change possibly still in: the answer was lost, or a restore failed.
      return audited === 'unknown' || audited === 'applied' ? 'restore' : 'leave';
    default:
      return 'leave';
  }
}

export async function reconcile(ctx: ServiceContext): Promise<ReconcileReport> {
  const report: Array<{ id: string; state: SessionState; note: string }> = [];
  let deferred = 0;
  for (const found of await ctx.sessions.list({ state: 'executing' })) {
    if (found.owner === ctx.instanceId || !ctx.owns(found)) continue;
    // Another instance may still be working on it: take over only once its lease has lapsed.
    if (!leaseExpired(found, ctx.clock().getTime(), ctx.leaseMs)) {
      deferred++;
      continue;
    }
    let claimed: SessionRecord;
    try {
      claimed = await ctx.sessions.update(found.id, found.version, {
        owner: ctx.instanceId,
        phase: 'reconciling',
      });
    } catch (error) {
      if (error instanceof KubemendError && error.code === 'session-conflict') continue;
      throw error;
    }
    const lease = new ExecutionLease(ctx.sessions, claimed, ctx.leaseMs);
    try {
      const { state, note, results } = await settleInterrupted(ctx, claimed);
      await lease.write({ state, results, phase: 'done', owner: undefined }, [
        reconciled(claimed.id, { state, note }),
      ]);
      report.push({ id: claimed.id, state, note });
    } finally {
      await lease.release();
    }
  }
  const unanswered = await settleUnanswered(ctx);
  return { sessions: [...report, ...unanswered.sessions], deferred: deferred + unanswered.deferred };
}

function reconciled(sessionId: string, detail: Record<string, unknown>): AuditEntry {
  return { type: 'session.reconciled', actor: 'kubemend-reconciler', sessionId, detail };
}

const UNANSWERED =
  'interrupted before the analysis was answered (the process working on it stopped); nothing was executed — its Idempotency-Key is released, a retry runs again';
const APPROVAL_INTERRUPTED =
  'an approval was interrupted before the execution started; nothing was executed — approve again';

/**
 * Sessions a process opened and never answered — it died between creating the session and
 * answering (`analyzed`, phase not `done`), or between an approval and its execution (`approved`,
 * written by earlier versions) — once their lease has lapsed and no request here works on them.
 * Nothing was executed, so settling them is a write: an unanswered request ends `failed` and
 * releases its Idempotency-Key (the retry runs again as a new session); an interrupted approval
 * goes back to `pending`.
 */
async function settleUnanswered(
  ctx: ServiceContext,
): Promise<{ sessions: Array<{ id: string; state: SessionState; note: string }>; deferred: number }> {
  const sessions: Array<{ id: string; state: SessionState; note: string }> = [];
  let deferred = 0;
  const now = ctx.clock().getTime();
  const found = [
    ...(await ctx.sessions.list({ state: 'analyzed', unfinished: true })),
    ...(await ctx.sessions.list({ state: 'approved' })),
  ];
  for (const session of found) {
    if (ctx.inFlight.has(session.id)) continue;
    if (!leaseExpired(session, now, ctx.leaseMs)) {
      deferred++;
      continue;
    }
    const state: SessionState = session.state === 'approved' ? 'pending' : 'failed';
    const note = state === 'pending' ? APPROVAL_INTERRUPTED : UNANSWERED;
    const released = state === 'failed' && session.idempotencyKey !== undefined;
    try {
      await ctx.sessions.update(
        session.id,
        session.version,
        {
          state,
          phase: 'done',
          owner: undefined,
          ...(released ? { idempotencyKey: undefined } : {}),
        },
        {
          audit: [
            reconciled(session.id, { state, note, ...(released ? { idempotencyKeyReleased: true } : {}) }),
          ],
        },
      );
    } catch (error) {
      // Someone else settled or answered it first.
      if (error instanceof KubemendError && error.code === 'session-conflict') continue;
      throw error;
    }
    sessions.push({ id: session.id, state, note });
  }
  return { sessions, deferred };
}

const NOT_APPLIED =
  'kubemend stopped between the dry-run and the apply; the object still matches the snapshot';
const CHANGED_BY_OTHER =
  'kubemend stopped between the dry-run and the apply; the object has since been changed by someone else and was left as it is';

/** What an interrupted execution left in the cluster, restored where it was kubemend's change. */
async function settleInterrupted(
  ctx: ServiceContext,
  session: SessionRecord,
): Promise<{ state: SessionState; note: string; results: ExecutionResult[] }> {
  const results = [...session.results];
  const actionOf = (id: string): RemediationAction | undefined =>
    session.output?.remediation.actions.find((a) => a.id === id);
  const audited = auditedChanges(await ctx.audit.list({ sessionId: session.id }));
  const dryRunSession = session.input.dryRun === true;
  const settlement = (r: ExecutionResult) => settlementOf(r, audited.get(r.actionId), dryRunSession);
  const toRestore = results.filter((r) => settlement(r) === 'restore');
  const uncertain = results.filter((r) => settlement(r) === 'inspect');
  const cluster = ctx.cluster();
  if (!cluster) {
    return toRestore.length + uncertain.length > 0
      ? {
          state: 'failed',
          note: 'interrupted during a change; no cluster connected to check or restore it — restore the snapshots in results[].before if the change is in the cluster',
          results,
        }
      : { state: 'failed', note: 'interrupted before any change was applied', results };
  }
  const engine = engineFor(ctx, cluster, 'kubemend-reconciler');
  const notes: string[] = [];
  for (const result of uncertain) {
    const action = actionOf(result.actionId);
    if (!action) continue;
    const seen = await engine.inspectAfterCrash(action, result.before as KubeObject, result.startedAt);
    const index = results.indexOf(result);
    if (seen === 'changed-by-kubemend') {
      toRestore.push(result);
    } else if (seen === 'unchanged') {
      results[index] = { ...result, status: 'failed', message: NOT_APPLIED };
      notes.push(`${result.actionId}: not applied`);
    } else {
      results[index] = { ...result, status: 'failed', message: CHANGED_BY_OTHER };
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
