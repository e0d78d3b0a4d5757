/**
 * Per-run state. An `ActionRun` is one action on its way through the state machine; a `RunContext`
 * is one plan being executed — its runs, its progress callback, the engine's ports. Nothing of a run
 * lives on the engine, so one engine executes any number of plans at once.
 */
import { objectLabel, type RemediationAction } from '../domain/index.js';
import type { AuditRecorder, AuditType } from '../audit/recorder.js';
import type { ClusterGateway, KubeObject, ObjectKey } from '../cluster/gateway.js';
import type { TargetLocks } from './locks.js';
import { type ActionEvent, type ActionState, transition } from './transitions.js';

/** Why an action was not run. */
export const SKIP_REASONS = ['manual', 'locked', 'earlier-failure'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** One step of the state machine, as observers see it. */
export interface TransitionRecord {
  readonly sessionId: string;
  readonly actionId: string;
  readonly from: ActionState;
  readonly event: ActionEvent;
  readonly to: ActionState;
}

/** What the engine works with; shared by every run, never changed by one. */
export interface ExecutionPorts {
  readonly gateway: ClusterGateway;
  readonly audit: AuditRecorder;
  readonly locks: TargetLocks;
  readonly actor: string;
  readonly pollIntervalMs: number;
  readonly stabilityMs: number;
  readonly clock: () => Date;
  /** Waits `ms`; an abort of `signal` ends the wait early. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly onTransition?: (change: TransitionRecord) => void;
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

export function keyOf(action: RemediationAction): ObjectKey {
  return { kind: action.target.kind, namespace: action.target.namespace, name: action.target.name };
}

/** An action's target as `Kind/namespace/name` (or `Kind/name`). */
export function actionLabel(action: RemediationAction): string {
  return objectLabel(keyOf(action));
}

export class ActionRun {
  readonly action: RemediationAction;
  readonly startedAt: string;
  snapshot?: KubeObject;
  created?: KubeObject;
  /** The target as kubemend's change left it (to tell whether someone reverted the change). */
  applied?: KubeObject;
  message = '';
  finishedAt?: string;
  /** The cluster was (or may have been) changed by this action. */
  changed = false;
  skipReason?: SkipReason;
  /** The session holding the target when another remediation had it locked. */
  lockedBy?: string;
  #state: ActionState = 'queued';

  constructor(action: RemediationAction, startedAt: string) {
    this.action = action;
    this.startedAt = startedAt;
  }

  get state(): ActionState {
    return this.#state;
  }

  get key(): ObjectKey {
    return keyOf(this.action);
  }

  /** Moves to the state the table gives for `event` (throws on an illegal transition). */
  advance(event: ActionEvent): { from: ActionState; to: ActionState } {
    const from = this.#state;
    this.#state = transition(from, event);
    return { from, to: this.#state };
  }
}

/** An audit record that goes with a transition. */
export interface AuditStep {
  readonly type: AuditType;
  readonly detail?: Record<string, unknown>;
  readonly before?: string;
  readonly after?: string;
  /**
   * Record it if possible, never fail for it (the state changes anyway). Without it the record is
   * written first, and if it cannot be, the state does not change (fail closed).
   */
  readonly bestEffort?: boolean;
}

export class RunContext {
  readonly ports: ExecutionPorts;
  readonly plan: ExecutionPlan;
  readonly runs: ActionRun[] = [];

  constructor(ports: ExecutionPorts, plan: ExecutionPlan) {
    this.ports = ports;
    this.plan = plan;
  }

  get gateway(): ClusterGateway {
    return this.ports.gateway;
  }

  now(): string {
    return this.ports.clock().toISOString();
  }

  /** Persists the runs through the plan's progress callback. */
  async progress(): Promise<void> {
    await this.plan.onProgress?.(this.runs);
  }

  /** Fires `event` on `run`, with its audit record: first and fail-closed, or best effort. */
  async enter(run: ActionRun, event: ActionEvent, audit?: AuditStep): Promise<void> {
    if (!audit) {
      this.advance(run, event);
      return;
    }
    const to = transition(run.state, event);
    if (audit.bestEffort) {
      this.advance(run, event);
      await this.record(run, audit, to).catch(() => undefined);
      return;
    }
    await this.record(run, audit, to);
    this.advance(run, event);
  }

  /**
   * Ends `run` without running it: a manual action, a target another remediation holds (`lockedBy`),
   * or an earlier action of the plan failed. The last two are recorded as `action.skipped`.
   */
  async skip(run: ActionRun, reason: SkipReason, message: string, lockedBy?: string): Promise<void> {
    run.skipReason = reason;
    run.message = message;
    if (lockedBy !== undefined) run.lockedBy = lockedBy;
    const audit: AuditStep | undefined =
      reason === 'manual'
        ? undefined
        : { type: 'action.skipped', detail: { reason: message }, bestEffort: true };
    await this.enter(run, reason === 'locked' ? 'lock-refused' : 'skip', audit);
    run.finishedAt = this.now();
  }

  /** An audit record that is not a transition (a note on the current state). */
  async note(run: ActionRun, audit: AuditStep): Promise<void> {
    const write = this.record(run, audit, run.state);
    await (audit.bestEffort ? write.catch(() => undefined) : write);
  }

  private advance(run: ActionRun, event: ActionEvent): void {
    const { from, to } = run.advance(event);
    this.ports.onTransition?.({ sessionId: this.plan.sessionId, actionId: run.action.id, from, event, to });
  }

  private async record(run: ActionRun, audit: AuditStep, state: ActionState): Promise<void> {
    await this.ports.audit.record({
      type: audit.type,
      actor: this.ports.actor,
      sessionId: this.plan.sessionId,
      actionId: run.action.id,
      target: objectLabel(run.key),
      ...(audit.before !== undefined ? { before: audit.before } : {}),
      ...(audit.after !== undefined ? { after: audit.after } : {}),
      detail: { state, ...audit.detail },
    });
  }
}

/** A real run under a policy with `requireDryRun: false` goes straight to the apply. */
export function skipsDryRun(plan: ExecutionPlan): boolean {
  return plan.requireDryRun === false && plan.dryRun !== true;
}
