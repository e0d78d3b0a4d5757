/**
 * One action, once its target is locked: snapshot → server-side dry-run → apply with the snapshot's
 * resourceVersion → verify, restoring the snapshot when verification fails. A 409 re-reads and
 * re-plans once (never a blind overwrite); a lost answer is settled by re-reading before anything
 * else. Every state change goes through `RunContext.enter` (the transition table).
 */
import type { KubeObject } from '../cluster/gateway.js';
import { isApiError, KubernetesApiError } from '../cluster/errors.js';
import { digest, KubemendError, objectLabel } from '../domain/index.js';
import { sameDesiredState } from './compare.js';
import { describe } from './describe.js';
import { performOperation } from './operation.js';
import { restore } from './restore.js';
import { snapshotView } from './results.js';
import { type ActionRun, type RunContext, skipsDryRun } from './run.js';
import { verify } from './verify.js';

/** Runs a locked action to the end of the happy path, or to where it stops. */
export async function applyAction(ctx: RunContext, run: ActionRun): Promise<void> {
  await takeSnapshot(ctx, run);

  if (skipsDryRun(ctx.plan)) {
    await ctx.enter(run, 'dry-run-skipped', {
      type: 'action.dry-run-skipped',
      detail: { reason: 'the policy sets requireDryRun: false' },
      before: snapshotDigest(run),
    });
  } else if (!(await dryRunPasses(ctx, run))) return;
  if (ctx.plan.dryRun) {
    run.message = 'server-side dry-run passed; nothing was changed (dryRun)';
    return;
  }
  // The snapshot is persisted before the change: a crash from here on can be reconciled.
  await ctx.progress();

  // Apply with the snapshot's resourceVersion as precondition.
  let applied: KubeObject;
  try {
    applied = await applyWithConflicts(ctx, run, false);
  } catch (error) {
    const refused =
      isConflictGiveUp(error) ||
      (isApiError(error) && error.kind !== 'unreachable' && error.kind !== 'retryable');
    if (refused) {
      run.message = isConflictGiveUp(error)
        ? error.message
        : `the API server rejected the change: ${describe(error)}`;
      await ctx.enter(run, 'apply-rejected', {
        type: 'action.apply-failed',
        detail: { error: describe(error) },
      });
      return;
    }
    // The request may or may not have reached etcd: find out before anything else.
    await settleLostAnswer(ctx, run, error);
    if (run.state !== 'applied') return;
    await verifyOrRestore(ctx, run);
    return;
  }
  run.changed = true;
  run.applied = applied;
  await ctx.enter(run, 'apply-confirmed', {
    type: 'action.applied',
    before: snapshotDigest(run),
    after: digest(snapshotView(applied)),
  });
  await verifyOrRestore(ctx, run);
}

/** Server-side dry-run: validation and admission, nothing persisted. */
async function dryRunPasses(ctx: RunContext, run: ActionRun): Promise<boolean> {
  try {
    run.dryRunObject = await applyWithConflicts(ctx, run, true);
  } catch (error) {
    run.message = isConflictGiveUp(error)
      ? error.message
      : `server-side dry-run rejected the change: ${describe(error)}`;
    await ctx.enter(run, 'dry-run-rejected', {
      type: 'action.dry-run-failed',
      detail: { error: describe(error) },
    });
    return false;
  }
  await ctx.enter(run, 'dry-run-passed', { type: 'action.dry-run', before: snapshotDigest(run) });
  return true;
}

async function verifyOrRestore(ctx: RunContext, run: ActionRun): Promise<void> {
  // Persist "applied, verifying" so that a crash from here on is reconciled from the snapshot.
  await ctx.progress().catch(() => undefined);
  const plan = run.action.verificationPlan;
  // A scale answers with the Scale subresource: the revert check needs the object itself.
  const applied =
    plan?.revertWatch && run.applied?.kind !== run.key.kind ? await ctx.gateway.get(run.key) : run.applied;
  const verification = await verify(ctx.ports, {
    key: run.key,
    timeoutMs: ctx.plan.verifyTimeoutMs,
    ...(plan ? { plan } : {}),
    ...(run.snapshot ? { snapshot: run.snapshot } : {}),
    ...(applied ? { applied } : {}),
  });
  if (verification.ok) {
    run.message = verification.detail;
    await ctx.enter(run, 'verified', {
      type: 'action.verified',
      detail: { detail: verification.detail, ...(plan ? { window: plan } : {}) },
    });
    return;
  }
  await ctx.note(run, { type: 'action.verification-failed', detail: { detail: verification.detail } });
  await restore(ctx, run, `verification failed: ${verification.detail}`);
}

async function takeSnapshot(ctx: RunContext, run: ActionRun): Promise<void> {
  if (run.action.type === 'create') {
    const manifest = run.action.params.manifest as KubeObject;
    const existing = await ctx.gateway.get({
      kind: String(manifest.kind),
      namespace: manifest.metadata?.namespace,
      name: String(manifest.metadata?.name),
    });
    if (existing)
      throw new KubernetesApiError(
        409,
        `${manifest.kind} ${manifest.metadata?.name} already exists; kubemend does not overwrite it`,
      );
    run.snapshot = undefined;
  } else {
    const object = await ctx.gateway.get(run.key);
    if (!object) throw new KubernetesApiError(404, `${objectLabel(run.key)} does not exist`);
    run.snapshot = object;
  }
  await ctx.enter(run, 'snapshot-taken', {
    type: 'action.snapshotted',
    detail: { resourceVersion: run.snapshot?.metadata?.resourceVersion },
    before: snapshotDigest(run),
  });
}

/**
 * Apply (or dry-run) with the snapshot's resourceVersion. A 409 caused only by controllers
 * updating status (same generation, labels and annotations) is retried with the fresh version.
 * A 409 caused by someone changing the object is re-read and re-planned once — new snapshot, new
 * dry-run — and a second such conflict gives up: kubemend never overwrites a concurrent change.
 */
async function applyWithConflicts(ctx: RunContext, run: ActionRun, dryRun: boolean): Promise<KubeObject> {
  let replanned = false;
  // After a re-plan the new snapshot is dry-run first, under the same conflict handling: status
  // churn between the re-read and that dry-run is retried, not taken for a failure.
  let dryRunFirst = false;
  for (let attempt = 0; ; attempt++) {
    try {
      if (dryRunFirst) {
        await operate(ctx, run, true);
        dryRunFirst = false;
      }
      return await operate(ctx, run, dryRun);
    } catch (error) {
      if (!isApiError(error, 'conflict') || !run.snapshot || attempt >= 8) throw error;
      const current = await ctx.gateway.get(run.key);
      if (!current) throw error;
      if (sameDesiredState(current, run.snapshot)) {
        run.snapshot = current; // status churn only
        continue;
      }
      if (replanned)
        throw new ConflictGiveUp(
          `the object changed while kubemend was applying (409 twice); nothing was overwritten: ${describe(error)}`,
        );
      replanned = true;
      await ctx.note(run, {
        type: 'action.conflicted',
        detail: { error: describe(error), generation: current.metadata?.generation },
      });
      run.snapshot = current;
      await ctx.enter(run, 'replanned', {
        type: 'action.snapshotted',
        detail: { resourceVersion: current.metadata?.resourceVersion, replan: true },
        before: digest(snapshotView(current)),
      });
      if (!dryRun && !skipsDryRun(ctx.plan)) dryRunFirst = true;
    }
  }
}

/** Perform the typed operation (dry-run or real) with the snapshot's resourceVersion. */
async function operate(ctx: RunContext, run: ActionRun, dryRun: boolean): Promise<KubeObject> {
  const options = { dryRun, resourceVersion: run.snapshot?.metadata?.resourceVersion };
  const answer = await performOperation(ctx.gateway, run.action, run.key, options, run.snapshot);
  if (run.action.type === 'create' && !dryRun) run.created = answer;
  return answer;
}

/** The apply's answer was lost: re-read the object to learn whether the change landed. */
async function settleLostAnswer(ctx: RunContext, run: ActionRun, error: unknown): Promise<void> {
  run.changed = true;
  await ctx.enter(run, 'answer-lost', {
    type: 'action.outcome-unknown',
    detail: { error: describe(error) },
    bestEffort: true,
  });
  for (let attempt = 0; attempt < 5; attempt++) {
    let current: KubeObject | undefined;
    try {
      current = await ctx.gateway.get(run.key);
    } catch {
      await ctx.ports.sleep(Math.min(4_000, 250 * 2 ** attempt));
      continue;
    }
    if (current?.metadata?.resourceVersion !== run.snapshot?.metadata?.resourceVersion) {
      run.applied = current;
      await ctx.enter(run, 'apply-confirmed', {
        type: 'action.applied',
        detail: { note: 'confirmed by re-reading after a lost response' },
        ...(current ? { after: digest(snapshotView(current)) } : {}),
      });
    } else {
      run.message = `the API server did not apply the change (${describe(error)}); nothing was changed`;
      run.changed = false;
      await ctx.enter(run, 'apply-rejected', {
        type: 'action.apply-failed',
        detail: { error: describe(error) },
      });
    }
    return;
  }
  run.message = `the API server became unreachable during the change (${describe(error)}); whether it was applied is unknown. The snapshot is in the audit log (action.snapshotted) and in this result's "before"; restore it when the API server is back.`;
}

function snapshotDigest(run: ActionRun): string | undefined {
  return run.snapshot ? digest(snapshotView(run.snapshot)) : undefined;
}

class ConflictGiveUp extends KubemendError {
  constructor(message: string) {
    super('cluster-conflict', message);
  }
}

function isConflictGiveUp(error: unknown): error is ConflictGiveUp {
  return error instanceof ConflictGiveUp;
}
