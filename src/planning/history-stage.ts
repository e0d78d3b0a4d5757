/**
 * The outcome history's stage of planning (docs/learning.md): after the actions are built and
 * validated, before the policy decides. Ranked-down actions move behind the others (ids follow the
 * new order), the main action's verified history may raise the confidence the policy sees (within
 * bounds), and an action that rolled back on its workload recently is held for approval. Every
 * effect and the records behind it are returned for the answer's `history` section.
 */
import type { HistorySectionOutput, RemediationAction } from '../domain/index.js';
import type { Finding } from '../analysis/finding.js';
import {
  confidenceBoost,
  type HistoryEffect,
  holdReason,
  type LearningWindows,
  rejectionsOf,
  rollbacksOf,
  successesOf,
} from '../learning/effects.js';
import type { LearningSettings, OutcomeHistory, OutcomeRecord } from '../learning/history.js';
import { parseDuration } from './policy.js';

/** The answer's `history`: the records that produced an effect (newest first, at most 20) and the effects. */
export type HistorySection = HistorySectionOutput;

export interface HistoryStageResult {
  readonly actions: RemediationAction[];
  readonly confidence: number;
  /** Action id → why it is held for approval. */
  readonly held: ReadonlyMap<string, string>;
  readonly section?: HistorySection;
}

const SECTION_RECORDS = 20;

export function applyHistory(
  actions: readonly RemediationAction[],
  finding: Finding,
  options: { history?: OutcomeHistory; settings: LearningSettings; modelOnly?: boolean },
): HistoryStageResult {
  const { history, settings } = options;
  if (!history || !settings.enabled)
    return { actions: [...actions], confidence: finding.confidence, held: new Map() };
  const windows: LearningWindows = {
    holdAfterRollbackMs: parseDuration(settings.holdAfterRollback),
    lookbackMs: parseDuration(settings.lookback),
  };
  const used = new Set<OutcomeRecord>();
  const effects: HistoryEffect[] = [];

  // Rank down: a stable partition, then ids in the new order.
  const rankedDown = new Map<RemediationAction, string>();
  for (const action of actions) {
    if (action.type === 'manual') continue;
    const rejections = rejectionsOf(finding.category, action.type, history, windows);
    if (rejections.length < settings.rejectionsToRankDown) continue;
    rejections.forEach((record) => used.add(record));
    rankedDown.set(
      action,
      `ranked down: ${action.type} was rejected ${rejections.length} time(s) for ${finding.category} within learning.lookback (${settings.lookback}; learning.rejectionsToRankDown ${settings.rejectionsToRankDown})`,
    );
  }
  const ordered = [
    ...actions.filter((action) => !rankedDown.has(action)),
    ...actions.filter((action) => rankedDown.has(action)),
  ].map((action, index) => ({ ...action, id: `a${index + 1}`, original: action }));
  for (const { id, original } of ordered) {
    const reason = rankedDown.get(original);
    if (reason) effects.push({ effect: 'ranked-down', actionId: id, reason });
  }
  const renumbered = ordered.map(({ original: _original, ...action }) => action as RemediationAction);

  const held = new Map<string, string>();
  for (const action of renumbered) {
    if (action.type === 'manual') continue;
    const rollbacks = rollbacksOf(action, history, windows);
    if (rollbacks.length === 0) continue;
    rollbacks.forEach((record) => used.add(record));
    const reason = holdReason(action, rollbacks, windows);
    held.set(action.id, reason);
    effects.push({ effect: 'held', actionId: action.id, reason });
  }

  let confidence = finding.confidence;
  const main = renumbered.find((action) => action.type !== 'manual');
  const eligible = finding.category !== 'unknown' && finding.category !== 'healthy' && !options.modelOnly;
  if (main && eligible && !held.has(main.id)) {
    const successes = successesOf(finding.category, main, history, windows);
    const raise = confidenceBoost(confidence, successes.length, settings.confidenceBoost);
    if (raise > 0) {
      successes.forEach((record) => used.add(record));
      effects.push({
        effect: 'confidence',
        reason: `confidence +${raise.toFixed(2)} (${confidence.toFixed(2)} → ${(confidence + raise).toFixed(2)}): ${main.type} of ${main.target.kind}/${main.target.name} was verified ${successes.length} time(s) for ${finding.category} within learning.lookback (${settings.lookback})`,
      });
      confidence = Math.round((confidence + raise) * 1000) / 1000;
    }
  }
  const records = history.records
    .filter((record) => used.has(record))
    .slice(0, SECTION_RECORDS)
    .map((record) => ({ ...record }));
  return {
    actions: renumbered,
    confidence,
    held,
    ...(effects.length > 0 ? { section: { asOf: history.asOf, records, effects } } : {}),
  };
}
