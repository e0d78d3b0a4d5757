/**
 * Putting a target back as its snapshot was, and checking that it is: after a failed verification,
 * when a later action of the session fails, after an unexpected error once the change is in, and
 * after a crash (crash reconciliation). Also the crash-time question of whether a change landed.
 */
import { isApiError, KubernetesApiError } from '../cluster/errors.js';
import { FIELD_MANAGER, type ClusterGateway, type KubeObject } from '../cluster/gateway.js';
import { at, digest, KubemendError, objectLabel, type RemediationAction } from '../domain/index.js';
import { matchesSnapshot, sameSpec } from './compare.js';
import { describe } from './describe.js';
import { type ActionReport, reportOf, snapshotView } from './results.js';
import { ActionRun, type ExecutionPorts, keyOf, RunContext } from './run.js';

/** Put the object back as it was in the snapshot, then check that it is. Never throws. */
export async function restore(ctx: RunContext, run: ActionRun, reason: string): Promise<void> {
  await ctx.enter(run, 'restore-started');
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await restoreOnce(ctx.gateway, run);
        break;
      } catch (error) {
        if (attempt >= 4 || !(isApiError(error, 'conflict') || (isApiError(error) && error.retryable)))
          throw error;
        await ctx.ports.sleep(Math.min(4_000, 250 * 2 ** attempt));
      }
    }
    const restored = run.snapshot ? await ctx.gateway.get(run.key) : undefined;
    if (run.snapshot && !sameSpec(restored, run.snapshot))
      throw new KubemendError('internal', 'the restored spec differs from the snapshot');
    await ctx.enter(run, 'restore-verified', {
      type: 'action.rolled-back',
      detail: { reason },
      ...(run.snapshot ? { before: digest(snapshotView(run.snapshot)) } : {}),
      ...(restored ? { after: digest(snapshotView(restored)) } : {}),
    });
    run.message = `${reason}; restored the snapshot (spec identical)`;
  } catch (error) {
    run.message = `${reason}; restoring the snapshot failed: ${describe(error)} (the snapshot is in this result's "before")`;
    await ctx.enter(run, 'restore-failed', {
      type: 'action.restore-failed',
      detail: { reason, error: describe(error) },
      bestEffort: true,
    });
  }
}

async function restoreOnce(gateway: ClusterGateway, run: ActionRun): Promise<void> {
  const { action, key } = run;
  if (action.type === 'create') {
    const manifest = (run.created ?? action.params.manifest) as KubeObject;
    await gateway.delete({
      kind: String(manifest.kind),
      namespace: manifest.metadata?.namespace,
      name: String(manifest.metadata?.name),
    });
    return;
  }
  if (action.type === 'cordon' || action.type === 'uncordon') {
    await gateway.cordon(key.name, Boolean(at(run.snapshot, 'spec', 'unschedulable')));
    return;
  }
  const snapshot = run.snapshot;
  if (!snapshot) return;
  const current = await gateway.get(key);
  if (!current) throw new KubernetesApiError(404, `${objectLabel(key)} no longer exists`);
  const restored: KubeObject = {
    ...current,
    metadata: {
      ...current.metadata,
      labels: snapshot.metadata?.labels,
      annotations: snapshot.metadata?.annotations,
    },
    spec: snapshot.spec,
  };
  delete restored.status;
  await gateway.replace(restored, { resourceVersion: current.metadata?.resourceVersion });
}

/**
 * After a crash: put an action's target back to the snapshot persisted before it was applied,
 * and verify the restore. Used by crash reconciliation.
 */
export async function restoreAfterCrash(
  ports: ExecutionPorts,
  sessionId: string,
  action: RemediationAction,
  snapshot: KubeObject | undefined,
  reason: string,
): Promise<ActionReport> {
  const ctx = new RunContext(ports, { sessionId, actions: [action], verifyTimeoutMs: 0 });
  const run = new ActionRun(action, ctx.now());
  ctx.runs.push(run);
  const lockKey = objectLabel(run.key);
  if (!ports.locks.tryAcquire(lockKey, sessionId)) {
    const holder = ports.locks.holder(lockKey);
    await ctx.skip(run, 'locked', `another remediation (session ${holder}) holds ${lockKey}`, holder);
    // Reconciliation could not restore it: for the session, the action failed.
    const report = reportOf(run, { dryRun: false, now: ctx.now() });
    return { ...report, result: { ...report.result, status: 'failed' } };
  }
  try {
    await ctx.enter(run, 'lock-acquired');
    run.snapshot = snapshot;
    run.changed = true;
    await ctx.enter(run, 'recovered');
    await restore(ctx, run, reason);
  } finally {
    run.finishedAt = ctx.now();
    ports.locks.release(lockKey, sessionId);
  }
  return reportOf(run, { dryRun: false, now: ctx.now() });
}

/**
 * After a crash between the persisted dry-run and the recorded apply, whether the change reached
 * the cluster: the object still matches the snapshot (`unchanged`), kubemend's field manager
 * wrote it since the action started (`changed-by-kubemend`: the apply landed, its answer was
 * lost), or someone else changed or deleted it (`changed-by-other`: not ours to undo).
 */
export async function inspectAfterCrash(
  gateway: ClusterGateway,
  action: RemediationAction,
  snapshot: KubeObject,
  startedAt: string,
): Promise<'unchanged' | 'changed-by-kubemend' | 'changed-by-other'> {
  const live = await gateway.get(keyOf(action));
  if (!live) return 'changed-by-other';
  if (matchesSnapshot(live, snapshot)) return 'unchanged';
  // managedFields times have one-second precision.
  const since = Math.floor(Date.parse(startedAt) / 1000) * 1000;
  const ours = (live.metadata?.managedFields ?? []).some(
    (entry) => entry.manager === FIELD_MANAGER && entry.time !== undefined && Date.parse(entry.time) >= since,
  );
  return ours ? 'changed-by-kubemend' : 'changed-by-other';
}
