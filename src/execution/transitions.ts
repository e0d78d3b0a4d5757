/**
 * The state machine of one action, as a table: state × event → state. `transition` is the only
 * function that computes a new state, and `ActionRun.advance` (run.ts) the only place that stores
 * one; an event the table does not allow in a state is a bug and throws `IllegalTransitionError`.
 *
 *   queued → locked → snapshotted → dry-run-passed → applied → verified
 *      ↘ skipped      ↘ failed (nothing changed)  ↘ outcome-unknown   ↘ rolling-back → rolled-back | restore-failed
 */
import { KubemendError } from '../domain/index.js';

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

export const ACTION_EVENTS = [
  /** The per-target lock was taken for this session. */
  'lock-acquired',
  /** Another remediation holds the target's lock: nothing is done. */
  'lock-refused',
  /** Not run: a manual action, or an earlier action of the session failed. */
  'skip',
  /** The target was read (or found absent, for a create) and recorded as the snapshot. */
  'snapshot-taken',
  /** A 409 because someone changed the object: re-read, new snapshot, new dry-run. */
  'replanned',
  /** The server-side dry-run passed every admission and validation step. */
  'dry-run-passed',
  /** The policy sets `requireDryRun: false` (manual policies only): ready to apply without one. */
  'dry-run-skipped',
  /** The server-side dry-run was refused (or a second 409 gave up): nothing changed. */
  'dry-run-rejected',
  /** The change is in the cluster: the API server said so, or a re-read after a lost answer. */
  'apply-confirmed',
  /** The change is not in the cluster: refused, a second 409, or a re-read after a lost answer. */
  'apply-rejected',
  /** The apply request went out and no answer came back: it may or may not have landed. */
  'answer-lost',
  /** The workload is healthy and stayed so for the stability window. */
  'verified',
  /** Putting the snapshot back begins (verification failed, a later action failed, a crash). */
  'restore-started',
  /** The snapshot is back in place and the spec is identical to it. */
  'restore-verified',
  /** Putting the snapshot back failed. */
  'restore-failed',
  /** Crash reconciliation: a change an earlier process applied (or may have) is taken over. */
  'recovered',
  /** An unexpected error (audit, progress store, a read) before any change reached the cluster. */
  'fault',
  /** An unexpected error after the change reached (or may have reached) the cluster. */
  'fault-after-change',
] as const;
export type ActionEvent = (typeof ACTION_EVENTS)[number];

/** Every allowed transition. A state with no row is terminal. */
export const TRANSITIONS: Readonly<Record<ActionState, Readonly<Partial<Record<ActionEvent, ActionState>>>>> =
  {
    queued: { 'lock-acquired': 'locked', 'lock-refused': 'skipped', skip: 'skipped' },
    locked: { 'snapshot-taken': 'snapshotted', recovered: 'applied', fault: 'failed' },
    snapshotted: {
      replanned: 'snapshotted',
      'dry-run-passed': 'dry-run-passed',
      // requireDryRun: false (manual policies only): ready to apply, persisted as after a dry-run.
      'dry-run-skipped': 'dry-run-passed',
      'dry-run-rejected': 'failed',
      fault: 'failed',
    },
    'dry-run-passed': {
      replanned: 'dry-run-passed',
      'apply-confirmed': 'applied',
      'apply-rejected': 'failed',
      'answer-lost': 'outcome-unknown',
      fault: 'failed',
      'fault-after-change': 'outcome-unknown',
    },
    'outcome-unknown': {
      'apply-confirmed': 'applied',
      'apply-rejected': 'failed',
      'restore-started': 'rolling-back',
      fault: 'failed',
      'fault-after-change': 'outcome-unknown',
    },
    applied: {
      verified: 'verified',
      'restore-started': 'rolling-back',
      'fault-after-change': 'outcome-unknown',
    },
    verified: { 'restore-started': 'rolling-back' },
    'rolling-back': { 'restore-verified': 'rolled-back', 'restore-failed': 'restore-failed' },
    failed: {},
    'rolled-back': {},
    'restore-failed': {},
    skipped: {},
  };

/** The transitions of the table as a flat list (for coverage checks and documentation). */
export function transitionRows(): Array<{ from: ActionState; event: ActionEvent; to: ActionState }> {
  return ACTION_STATES.flatMap((from) =>
    Object.entries(TRANSITIONS[from]).map(([event, to]) => ({
      from,
      event: event as ActionEvent,
      to: to as ActionState,
    })),
  );
}

/** An event the table does not allow in the current state: a bug in the engine. */
export class IllegalTransitionError extends KubemendError {
  readonly from: ActionState;
  readonly event: ActionEvent;

  constructor(from: ActionState, event: ActionEvent) {
    super('internal', `illegal action transition: "${event}" in state "${from}"`);
    this.name = 'IllegalTransitionError';
    this.from = from;
    this.event = event;
  }
}

/** The state `event` leads to from `state`; throws `IllegalTransitionError` if the table has none. */
export function transition(state: ActionState, event: ActionEvent): ActionState {
  const next = TRANSITIONS[state][event];
  if (next === undefined) throw new IllegalTransitionError(state, event);
  return next;
}

/** A state with no way out. */
export function isTerminal(state: ActionState): boolean {
  return Object.keys(TRANSITIONS[state]).length === 0;
}
