/**
 * The rules that turn an outcome history into effects on a plan — pure and deterministic: no
 * clock (the history's `asOf` is "now"), no hidden state.
 *
 * - held: an action whose type rolled back on the same workload within `holdAfterRollback` is not
 *   executed unattended; it waits for a person.
 * - ranked down: an action type people rejected (or contradicted in shadow mode) at least
 *   `rejectionsToRankDown` times for the category, within `lookback`, moves behind the others.
 * - confidence: each `perVerified` verified (or shadow-matched) outcomes of the main action on its
 *   workload raise the confidence by `step`, at most `max`, never above `ceiling`; never for
 *   `unknown`, `healthy` or a model-only analysis.
 */
import { type ActionTarget, objectLabel } from '../domain/index.js';
import type { LearningSettings, OutcomeHistory, OutcomeRecord } from './history.js';

export const HISTORY_EFFECTS = ['held', 'ranked-down', 'confidence'] as const;
export type HistoryEffectKind = (typeof HISTORY_EFFECTS)[number];

export interface HistoryEffect {
  readonly effect: HistoryEffectKind;
  /** The action it applies to (absent for confidence, which is the analysis's). */
  readonly actionId?: string;
  readonly reason: string;
}

export interface PlannedAction {
  readonly id: string;
  readonly type: string;
  readonly target: ActionTarget;
}

export interface LearningWindows {
  readonly holdAfterRollbackMs: number;
  readonly lookbackMs: number;
}

export function workloadOf(target: ActionTarget): string {
  return objectLabel(target);
}

const within = (record: OutcomeRecord, asOf: number, windowMs: number): boolean => {
  const at = Date.parse(record.at);
  return at <= asOf && at >= asOf - windowMs;
};

const minutes = (ms: number): string =>
  ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${Math.round(ms / 60_000)}m`;

/** The history's records within `windowMs` before `asOf` that satisfy `wanted`, newest first. */
function recent(
  history: OutcomeHistory,
  windowMs: number,
  wanted: (record: OutcomeRecord) => boolean,
): OutcomeRecord[] {
  const asOf = Date.parse(history.asOf);
  return history.records.filter((record) => wanted(record) && within(record, asOf, windowMs));
}

/** Records that rolled back `action` on its workload within the hold window, newest first. */
export function rollbacksOf(
  action: PlannedAction,
  history: OutcomeHistory,
  windows: LearningWindows,
): OutcomeRecord[] {
  const workload = workloadOf(action.target);
  return recent(
    history,
    windows.holdAfterRollbackMs,
    (record) =>
      record.outcome === 'rolled-back' && record.actionType === action.type && record.workload === workload,
  );
}

export function holdReason(
  action: PlannedAction,
  rollbacks: readonly OutcomeRecord[],
  windows: LearningWindows,
): string {
  const last = rollbacks[0]!;
  return `held for approval: ${action.type} of ${workloadOf(action.target)} was rolled back at ${last.at} (session ${last.sessionId})${rollbacks.length > 1 ? ` and ${rollbacks.length - 1} more time(s)` : ''}, within learning.holdAfterRollback (${minutes(windows.holdAfterRollbackMs)})`;
}

/** Rejections (and contradictions) of this action type for the category within the lookback. */
export function rejectionsOf(
  category: string,
  actionType: string,
  history: OutcomeHistory,
  windows: LearningWindows,
): OutcomeRecord[] {
  return recent(
    history,
    windows.lookbackMs,
    (record) =>
      (record.outcome === 'rejected' || record.outcome === 'contradicted') &&
      record.category === category &&
      record.actionType === actionType,
  );
}

/** Verified (and matched) outcomes of this action on its workload for the category. */
export function successesOf(
  category: string,
  action: PlannedAction,
  history: OutcomeHistory,
  windows: LearningWindows,
): OutcomeRecord[] {
  const workload = workloadOf(action.target);
  return recent(
    history,
    windows.lookbackMs,
    (record) =>
      (record.outcome === 'verified' || record.outcome === 'matched') &&
      record.category === category &&
      record.actionType === action.type &&
      record.workload === workload,
  );
}

/** The bounded raise of confidence, and its reason; 0 when none applies. */
export function confidenceBoost(
  confidence: number,
  successes: number,
  settings: LearningSettings['confidenceBoost'],
): number {
  const steps = Math.floor(successes / settings.perVerified);
  const raise = Math.min(settings.max, steps * settings.step);
  if (raise <= 0 || confidence >= settings.ceiling) return 0;
  return Math.round((Math.min(settings.ceiling, confidence + raise) - confidence) * 1000) / 1000;
}
