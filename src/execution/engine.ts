/**
 * The execution engine: an explicit state machine per action —
 *
 *   queued → locked → snapshotted → dry-run-passed → applied → verified
 *                                 ↘ failed (nothing changed)        ↘ rolling-back → rolled-back | restore-failed
 *
 * Server-side dry-run first; apply with the snapshot's resourceVersion as precondition; a 409
 * re-reads and re-plans once (never a blind overwrite); verify within the policy's timeout that the
 * workload is healthy and stays so; otherwise restore the snapshot and verify the restore. Actions
 * of one session run in order; a failure stops the rest and rolls back what was applied. Every
 * transition is recorded in the audit log first (fail closed).
 */
import type { ExecutionResult, RemediationAction } from '../domain/index.js';
import { KubemendError } from '../domain/index.js';
import { objectLabel as label } from '../domain/object-ref.js';
import type { AuditRecorder, AuditType } from '../audit/recorder.js';
import { canonicalJson, digest } from '../audit/recorder.js';
import { type ClusterGateway, FIELD_MANAGER, type KubeObject, type ObjectKey } from '../cluster/gateway.js';
import { isApiError, KubernetesApiError } from '../cluster/errors.js';
import { at } from '../context/json.js';
import { checkHealth } from './health.js';
import { TargetLocks } from './locks.js';

export const ACTION_STATES = [
  'queued',
  'locked',
  'snapshotted',
  'dry-run-passed',
  'applied',
  'verified',
  'failed',
  'rolling-back',
  'rolled-back',
  'restore-failed',
  'skipped',
  'outcome-unknown',
] as const;
export type ActionState = (typeof ACTION_STATES)[number];

export interface EngineOptions {
  readonly gateway: ClusterGateway;
  readonly audit: AuditRecorder;
  readonly locks?: TargetLocks;
  readonly actor?: string;
  readonly pollIntervalMs?: number;
  /** How long a verified workload must stay healthy with no new restarts. */
  readonly stabilityMs?: number;
  readonly clock?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface ExecutionPlan {
  readonly sessionId: string;
  readonly actions: readonly RemediationAction[];
  readonly dryRun?: boolean;
  /**
   * The policy's `requireDryRun` (default true). `false` — accepted only for `mode: manual`
   * policies, so every change was approved by a person — applies without the server-side dry-run.
   */
  readonly requireDryRun?: boolean;
  readonly verifyTimeoutMs: number;
  /**
   * Persist progress (e.g. in the session store). Called with the snapshot before anything is
   * applied, after the change, and when each action ends; if it throws before a change, the change
   * does not happen.
   */
  readonly onProgress?: (runs: readonly ActionRun[]) => Promise<void>;
}

export interface ActionRun {
  readonly action: RemediationAction;
  state: ActionState;
  snapshot?: KubeObject;
  created?: KubeObject;
  message: string;
  startedAt: string;
  finishedAt?: string;
  /** The cluster was (or may have been) changed by this action. */
  changed?: boolean;
}

export interface ExecutionOutcome {
  readonly results: ExecutionResult[];
  /** verified: every action verified; dry-run: nothing changed; failed/rolled-back otherwise. */
  readonly outcome: 'verified' | 'dry-run' | 'rolled-back' | 'failed' | 'skipped';
  /** Whether any action changed (or may have changed) the cluster. */
  readonly changedCluster: boolean;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function keyOf(action: RemediationAction): ObjectKey {
  return { kind: action.target.kind, namespace: action.target.namespace, name: action.target.name };
}

/** What is kept for rollback and shown as `before`: identity, labels, annotations and spec. */
export function snapshotView(object: KubeObject): Record<string, unknown> {
  const metadata = object.metadata ?? {};
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      resourceVersion: metadata.resourceVersion,
      generation: metadata.generation,
      labels: metadata.labels,
      annotations: metadata.annotations,
    },
    ...(object.spec !== undefined ? { spec: object.spec } : {}),
    ...(object.data !== undefined ? { data: object.data } : {}),
  };
}

export class ExecutionEngine {
  private readonly gateway: ClusterGateway;
  private readonly audit: AuditRecorder;
  private readonly locks: TargetLocks;
  private readonly actor: string;
  private readonly pollIntervalMs: number;
  private readonly stabilityMs: number;
  private readonly clock: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private progress: () => Promise<void> = async () => undefined;

  constructor(options: EngineOptions) {
    this.gateway = options.gateway;
    this.audit = options.audit;
    this.locks = options.locks ?? new TargetLocks();
    this.actor = options.actor ?? 'kubemend';
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.stabilityMs = options.stabilityMs ?? 10_000;
    this.clock = options.clock ?? (() => new Date());
    this.sleep = options.sleep ?? defaultSleep;
  }

  async run(plan: ExecutionPlan): Promise<ExecutionOutcome> {
    const runs: ActionRun[] = [];
    this.progress = async () => {
      await plan.onProgress?.(runs);
    };
    let stopped = false;
    for (const action of plan.actions) {
      const run: ActionRun = { action, state: 'queued', message: '', startedAt: this.now() };
      runs.push(run);
      if (stopped) {
        run.state = 'skipped';
        run.message = 'not run: an earlier action of this session failed';
        run.finishedAt = this.now();
        await this.record('action.skipped', plan, run, { reason: run.message }).catch(() => undefined);
        continue;
      }
      await this.execute(plan, run);
      await this.progress().catch(() => undefined);
      if (
        run.state !== 'verified' &&
        run.state !== 'skipped' &&
        !(plan.dryRun && run.state === 'dry-run-passed')
      )
        stopped = true;
    }
    if (stopped) {
      // Undo what this session applied, newest first.
      for (const run of [...runs].reverse()) {
        if (run.state === 'verified') await this.restore(plan, run, 'a later action of this session failed');
      }
    }
    const results = runs.map((run) => this.result(run, plan.dryRun === true));
    const outcome: ExecutionOutcome['outcome'] = plan.dryRun
      ? stopped
        ? 'failed'
        : 'dry-run'
      : runs.every((r) => r.state === 'verified')
        ? 'verified'
        : runs.some(
              (r) => r.state === 'failed' || r.state === 'restore-failed' || r.state === 'outcome-unknown',
            )
          ? 'failed'
          : runs.some((r) => r.state === 'rolled-back')
            ? 'rolled-back'
            : 'skipped';
    return { results, outcome, changedCluster: runs.some((run) => run.changed === true) };
  }

  /**
   * After a crash: put an action's target back to the snapshot persisted before it was applied,
   * and verify the restore. Used by start-up reconciliation.
   */
  async restoreAfterCrash(
    sessionId: string,
    action: RemediationAction,
    snapshot: KubeObject | undefined,
    reason: string,
  ): Promise<ExecutionResult> {
    const run: ActionRun = {
      action,
      state: 'applied',
      snapshot,
      message: '',
      startedAt: this.now(),
      changed: true,
    };
    const plan: ExecutionPlan = { sessionId, actions: [action], verifyTimeoutMs: 0 };
    const lockKey = label(keyOf(action));
    if (!this.locks.tryAcquire(lockKey, sessionId)) {
      return {
        ...this.result({ ...run, state: 'failed', message: `another remediation holds ${lockKey}` }, false),
      };
    }
    try {
      await this.restore(plan, run, reason);
    } finally {
      run.finishedAt = this.now();
      this.locks.release(lockKey, sessionId);
    }
    return this.result(run, false);
  }

  /**
   * After a crash between the persisted dry-run and the recorded apply, whether the change reached
   * the cluster: the object still matches the snapshot (`unchanged`), kubemend's field manager
   * wrote it since the action started (`changed-by-kubemend`: the apply landed, its answer was
   * lost), or someone else changed or deleted it (`changed-by-other`: not ours to undo).
   */
  async inspectAfterCrash(
    action: RemediationAction,
    snapshot: KubeObject,
    startedAt: string,
  ): Promise<'unchanged' | 'changed-by-kubemend' | 'changed-by-other'> {
    const live = await this.gateway.get(keyOf(action));
    if (!live) return 'changed-by-other';
    const same =
      canonicalJson(live.spec ?? null) === canonicalJson(snapshot.spec ?? null) &&
      canonicalJson(live.data ?? null) === canonicalJson(snapshot.data ?? null) &&
      canonicalJson(live.metadata?.labels ?? {}) === canonicalJson(snapshot.metadata?.labels ?? {}) &&
      canonicalJson(live.metadata?.annotations ?? {}) === canonicalJson(snapshot.metadata?.annotations ?? {});
    if (same) return 'unchanged';
    // managedFields times have one-second precision.
    const since = Math.floor(Date.parse(startedAt) / 1000) * 1000;
    const ours = (live.metadata?.managedFields ?? []).some(
      (entry) =>
        entry.manager === FIELD_MANAGER && entry.time !== undefined && Date.parse(entry.time) >= since,
    );
    return ours ? 'changed-by-kubemend' : 'changed-by-other';
  }

  private now(): string {
    return this.clock().toISOString();
  }

  private async record(
    type: AuditType,
    plan: ExecutionPlan,
    run: ActionRun,
    detail: Record<string, unknown> = {},
    digests: { before?: string; after?: string } = {},
  ): Promise<void> {
    await this.audit.record({
      type,
      actor: this.actor,
      sessionId: plan.sessionId,
      actionId: run.action.id,
      target: label(keyOf(run.action)),
      ...digests,
      detail: { state: run.state, ...detail },
    });
  }

  private async execute(plan: ExecutionPlan, run: ActionRun): Promise<void> {
    const action = run.action;
    const key = keyOf(action);
    if (action.type === 'manual') {
      run.state = 'skipped';
      run.message = 'manual action: for a person to carry out';
      run.finishedAt = this.now();
      return;
    }
    const lockKey = label(key);
    if (!this.locks.tryAcquire(lockKey, plan.sessionId)) {
      run.state = 'skipped';
      run.message = `another remediation (session ${this.locks.holder(lockKey)}) is changing ${lockKey}; nothing was done`;
      run.finishedAt = this.now();
      await this.record('action.skipped', plan, run, { reason: run.message }).catch(() => undefined);
      return;
    }
    try {
      await this.executeLocked(plan, run, key);
    } catch (error) {
      // Audit failures and unexpected errors end the action safely, recorded where possible.
      run.state = run.state === 'applied' ? 'outcome-unknown' : 'failed';
      run.message = `${error instanceof KubemendError || error instanceof Error ? error.message : String(error)}`;
      if (run.state === 'outcome-unknown') await this.restore(plan, run, run.message);
    } finally {
      run.finishedAt = this.now();
      this.locks.release(lockKey, plan.sessionId);
    }
  }

  private async executeLocked(plan: ExecutionPlan, run: ActionRun, key: ObjectKey): Promise<void> {
    run.state = 'locked';
    await this.takeSnapshot(plan, run, key);

    if (skipsDryRun(plan)) {
      // Ready to apply, as after a passed dry-run (and persisted the same way, for reconciliation).
      run.state = 'dry-run-passed';
      await this.record(
        'action.dry-run-skipped',
        plan,
        run,
        { reason: 'the policy sets requireDryRun: false' },
        { before: run.snapshot ? digest(snapshotView(run.snapshot)) : undefined },
      );
    } else {
      // Server-side dry-run: validation and admission, nothing persisted.
      try {
        await this.applyWithConflicts(plan, run, key, true);
      } catch (error) {
        run.state = 'failed';
        run.message = isConflictGiveUp(error)
          ? error.message
          : `server-side dry-run rejected the change: ${describe(error)}`;
        await this.record('action.dry-run-failed', plan, run, { error: describe(error) });
        return;
      }
      run.state = 'dry-run-passed';
      await this.record(
        'action.dry-run',
        plan,
        run,
        {},
        { before: run.snapshot ? digest(snapshotView(run.snapshot)) : undefined },
      );
    }
    if (plan.dryRun) {
      run.message = 'server-side dry-run passed; nothing was changed (dryRun)';
      return;
    }
    // The snapshot is persisted before the change: a crash from here on can be reconciled.
    await this.progress();

    // Apply with the snapshot's resourceVersion as precondition.
    let applied: KubeObject | undefined;
    try {
      applied = await this.applyWithConflicts(plan, run, key, false);
    } catch (error) {
      if (isConflictGiveUp(error)) {
        run.state = 'failed';
        run.message = error.message;
        await this.record('action.apply-failed', plan, run, { error: describe(error) });
        return;
      }
      if (isApiError(error) && error.kind !== 'unreachable' && error.kind !== 'retryable') {
        run.state = 'failed';
        run.message = `the API server rejected the change: ${describe(error)}`;
        await this.record('action.apply-failed', plan, run, { error: describe(error) });
        return;
      }
      // The request may or may not have reached etcd: find out before anything else.
      await this.settleUnknownOutcome(plan, run, key, error);
      if ((run.state as ActionState) !== 'applied') return;
    }
    run.changed = true;
    if (applied) {
      run.state = 'applied';
      await this.record(
        'action.applied',
        plan,
        run,
        {},
        {
          before: run.snapshot ? digest(snapshotView(run.snapshot)) : undefined,
          after: digest(snapshotView(applied)),
        },
      );
    }
    // Persist "applied, verifying" so that a crash from here on is reconciled from the snapshot.
    await this.progress().catch(() => undefined);

    const verification = await this.verify(key, plan.verifyTimeoutMs);
    if (verification.ok) {
      run.state = 'verified';
      run.message = verification.detail;
      await this.record('action.verified', plan, run, { detail: verification.detail });
      return;
    }
    await this.record('action.verification-failed', plan, run, { detail: verification.detail });
    await this.restore(plan, run, `verification failed: ${verification.detail}`);
  }

  /**
   * Apply (or dry-run) with the snapshot's resourceVersion. A 409 caused only by controllers
   * updating status (same generation, labels and annotations) is retried with the fresh version.
   * A 409 caused by someone changing the object is re-read and re-planned once — new snapshot, new
   * dry-run — and a second such conflict gives up: kubemend never overwrites a concurrent change.
   */
  private async applyWithConflicts(
    plan: ExecutionPlan,
    run: ActionRun,
    key: ObjectKey,
    dryRun: boolean,
  ): Promise<KubeObject> {
    let replanned = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.apply(run, key, dryRun);
      } catch (error) {
        if (!isApiError(error, 'conflict') || !run.snapshot || attempt >= 8) throw error;
        const current = await this.gateway.get(key);
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
        await this.record('action.conflicted', plan, run, {
          error: describe(error),
          generation: current.metadata?.generation,
        });
        run.snapshot = current;
        await this.record(
          'action.snapshotted',
          plan,
          run,
          { resourceVersion: current.metadata?.resourceVersion, replan: true },
          { before: digest(snapshotView(current)) },
        );
        if (!dryRun && !skipsDryRun(plan)) await this.apply(run, key, true);
      }
    }
  }

  private async takeSnapshot(plan: ExecutionPlan, run: ActionRun, key: ObjectKey): Promise<void> {
    if (run.action.type === 'create') {
      const manifest = run.action.params.manifest as KubeObject;
      const existing = await this.gateway.get({
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
      const object = await this.gateway.get(key);
      if (!object) throw new KubernetesApiError(404, `${label(key)} does not exist`);
      run.snapshot = object;
    }
    run.state = 'snapshotted';
    await this.record(
      'action.snapshotted',
      plan,
      run,
      { resourceVersion: run.snapshot?.metadata?.resourceVersion },
      { before: run.snapshot ? digest(snapshotView(run.snapshot)) : undefined },
    );
  }

  /** Perform the typed operation (dry-run or real) with the snapshot's resourceVersion. */
  private async apply(run: ActionRun, key: ObjectKey, dryRun: boolean): Promise<KubeObject> {
    const action = run.action;
    const resourceVersion = run.snapshot?.metadata?.resourceVersion;
    const options = { dryRun, resourceVersion };
    switch (action.type) {
      case 'patch':
        return this.gateway.patch(key, action.params.patchType, action.params.patch, options);
      case 'scale':
        return this.gateway.scale(key, action.params.replicas, options);
      case 'restart':
        return this.gateway.restart(key, options);
      case 'rollback':
        return (await this.gateway.rollback(key, action.params.toRevision, options)).object;
      case 'cordon':
      case 'uncordon':
        return this.gateway.cordon(key.name, action.type === 'cordon', options);
      case 'create': {
        const created = await this.gateway.create(action.params.manifest as KubeObject, { dryRun });
        if (!dryRun) run.created = created;
        return created;
      }
      case 'delete':
        await this.gateway.delete(key, options);
        return run.snapshot ?? {};
      case 'manual':
        throw new KubemendError('internal', 'manual actions are not executed');
    }
  }

  private async settleUnknownOutcome(
    plan: ExecutionPlan,
    run: ActionRun,
    key: ObjectKey,
    error: unknown,
  ): Promise<void> {
    run.state = 'outcome-unknown';
    run.changed = true;
    await this.record('action.outcome-unknown', plan, run, { error: describe(error) }).catch(() => undefined);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const current = await this.gateway.get(key);
        const changed = current?.metadata?.resourceVersion !== run.snapshot?.metadata?.resourceVersion;
        if (changed) {
          run.state = 'applied';
          await this.record(
            'action.applied',
            plan,
            run,
            { note: 'confirmed by re-reading after a lost response' },
            { after: current ? digest(snapshotView(current)) : undefined },
          );
        } else {
          run.state = 'failed';
          run.changed = false;
          run.message = `the API server did not apply the change (${describe(error)}); nothing was changed`;
          await this.record('action.apply-failed', plan, run, { error: describe(error) });
        }
        return;
      } catch {
        await this.sleep(Math.min(4_000, 250 * 2 ** attempt));
      }
    }
    run.message = `the API server became unreachable during the change (${describe(error)}); whether it was applied is unknown. The snapshot is in the audit log (action.snapshotted) and in this result's "before"; restore it when the API server is back.`;
  }

  private async verify(key: ObjectKey, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
    const deadline = Date.now() + timeoutMs;
    let last = 'not checked';
    // Restart counts of the new pods when first seen: any restart after the change is a failure.
    const firstSeen = new Map<string, number>();
    while (Date.now() < deadline) {
      let report;
      try {
        report = await checkHealth(this.gateway, key);
      } catch (error) {
        last = `health check failed: ${describe(error)}`;
        await this.sleep(this.pollIntervalMs);
        continue;
      }
      last = report.detail;
      if (report.failing) return { ok: false, detail: report.detail };
      for (const [container, count] of Object.entries(report.restarts ?? {})) {
        const seen = firstSeen.get(container);
        if (seen === undefined) firstSeen.set(container, count);
        else if (count > seen)
          return {
            ok: false,
            detail: `${container} restarted ${count - seen} time(s) after the change (${report.detail})`,
          };
      }
      if (report.healthy) {
        // Stay healthy, with no new restarts, for the stability window.
        const settle = Math.min(this.stabilityMs, Math.max(0, deadline - Date.now()));
        await this.sleep(settle);
        const again = await checkHealth(this.gateway, key).catch((error: unknown) => ({
          healthy: false,
          detail: describe(error),
          restarts: undefined,
        }));
        const restarted = Object.entries(again.restarts ?? {}).some(
          ([container, count]) => count > (report.restarts?.[container] ?? count),
        );
        if (again.healthy && !restarted)
          return {
            ok: true,
            detail: `healthy: ${again.detail}, no restarts for ${Math.round(settle / 1000)}s`,
          };
        last = restarted ? 'a container restarted during the stability window' : again.detail;
        if (restarted) return { ok: false, detail: last };
      }
      await this.sleep(this.pollIntervalMs);
    }
    return { ok: false, detail: `not healthy within ${Math.round(timeoutMs / 1000)}s: ${last}` };
  }

  /** Put the object back as it was in the snapshot, then check that it is. */
  private async restore(plan: ExecutionPlan, run: ActionRun, reason: string): Promise<void> {
    const key = keyOf(run.action);
    run.state = 'rolling-back';
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.restoreOnce(run, key);
          break;
        } catch (error) {
          if (attempt >= 4 || !(isApiError(error, 'conflict') || (isApiError(error) && error.retryable)))
            throw error;
          await this.sleep(Math.min(4_000, 250 * 2 ** attempt));
        }
      }
      const restored = run.snapshot ? await this.gateway.get(key) : undefined;
      const identical =
        !run.snapshot || canonicalJson(restored?.spec ?? null) === canonicalJson(run.snapshot.spec ?? null);
      if (!identical) throw new KubemendError('internal', 'the restored spec differs from the snapshot');
      run.state = 'rolled-back';
      run.message = `${reason}; restored the snapshot (spec identical)`;
      await this.record(
        'action.rolled-back',
        plan,
        run,
        { reason },
        {
          before: run.snapshot ? digest(snapshotView(run.snapshot)) : undefined,
          after: restored ? digest(snapshotView(restored)) : undefined,
        },
      );
    } catch (error) {
      run.state = 'restore-failed';
      run.message = `${reason}; restoring the snapshot failed: ${describe(error)} (the snapshot is in this result's "before")`;
      await this.record('action.restore-failed', plan, run, { reason, error: describe(error) }).catch(
        () => undefined,
      );
    }
  }

  private async restoreOnce(run: ActionRun, key: ObjectKey): Promise<void> {
    const action = run.action;
    if (action.type === 'create') {
      const manifest = (run.created ?? action.params.manifest) as KubeObject;
      await this.gateway.delete({
        kind: String(manifest.kind),
        namespace: manifest.metadata?.namespace,
        name: String(manifest.metadata?.name),
      });
      return;
    }
    if (action.type === 'cordon' || action.type === 'uncordon') {
      await this.gateway.cordon(key.name, Boolean(at(run.snapshot, 'spec', 'unschedulable')));
      return;
    }
    const snapshot = run.snapshot;
    if (!snapshot) return;
    const current = await this.gateway.get(key);
    if (!current) throw new KubernetesApiError(404, `${label(key)} no longer exists`);
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
    await this.gateway.replace(restored, { resourceVersion: current.metadata?.resourceVersion });
  }

  private result(run: ActionRun, dryRun: boolean): ExecutionResult {
    return toExecutionResult(run, { dryRun, now: this.now() });
  }
}

/**
 * The contract's view of an action run. While a session is still executing (`inProgress`), an
 * action that was applied and is being verified or restored reports `applied`.
 */
export function toExecutionResult(
  run: ActionRun,
  options: { dryRun: boolean; now: string; inProgress?: boolean },
): ExecutionResult {
  const inFlight =
    options.inProgress &&
    (run.state === 'applied' || run.state === 'outcome-unknown' || run.state === 'rolling-back');
  const status: ExecutionResult['status'] = inFlight
    ? 'applied'
    : run.state === 'verified'
      ? 'verified'
      : run.state === 'rolled-back'
        ? 'rolled-back'
        : run.state === 'skipped'
          ? 'skipped'
          : (run.state === 'dry-run-passed' && options.dryRun) ||
              (options.inProgress && run.state === 'dry-run-passed')
            ? 'dry-run'
            : run.state === 'applied'
              ? 'applied'
              : 'failed';
  return {
    actionId: run.action.id,
    status,
    message: run.message || run.state,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? options.now,
    ...(run.snapshot ? { before: snapshotView(run.snapshot) } : {}),
  };
}

/** A real run under a policy with `requireDryRun: false` goes straight to the apply. */
function skipsDryRun(plan: ExecutionPlan): boolean {
  return plan.requireDryRun === false && plan.dryRun !== true;
}

class ConflictGiveUp extends KubemendError {
  constructor(message: string) {
    super('cluster-conflict', message);
  }
}

function isConflictGiveUp(error: unknown): error is ConflictGiveUp {
  return error instanceof ConflictGiveUp;
}

/** Same spec (generation), labels and annotations: only status or bookkeeping moved on. */
function sameDesiredState(current: KubeObject, snapshot: KubeObject): boolean {
  return (
    current.metadata?.generation === snapshot.metadata?.generation &&
    canonicalJson(current.metadata?.labels ?? {}) === canonicalJson(snapshot.metadata?.labels ?? {}) &&
    canonicalJson(current.metadata?.annotations ?? {}) === canonicalJson(snapshot.metadata?.annotations ?? {})
  );
}

function describe(error: unknown): string {
  if (error instanceof KubernetesApiError) return `${error.status || 'network'} ${error.message}`.trim();
  return error instanceof Error ? error.message : String(error);
}
