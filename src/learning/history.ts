/**
 * The outcome history (docs/learning.md): what happened to kubemend's actions, per (category,
 * action type, workload) — verified, rolled back, rejected by a person, and (from shadow mode)
 * matched or contradicted by what people did. The service reads it before planning and hands it
 * to the planner as a value: the same input and the same history give the same answer.
 */
import { z } from 'zod';
import { OUTCOME_KINDS } from '../domain/index.js';

export { OUTCOME_KINDS, type OutcomeKind } from '../domain/index.js';

export const OutcomeRecordSchema = z.strictObject({
  /** The cluster, when kubemend serves several (absent: the one it is connected to). */
  cluster: z.string().min(1).optional(),
  category: z.string().min(1),
  actionType: z.string().min(1),
  /** The action's target as `Kind/namespace/name`. */
  workload: z.string().min(1),
  outcome: z.enum(OUTCOME_KINDS),
  at: z.string(),
  sessionId: z.string().min(1),
  actionId: z.string().min(1).optional(),
});
export type OutcomeRecord = z.infer<typeof OutcomeRecordSchema>;

/** The records the planner may use, and the moment they were read (the "now" of every window). */
export interface OutcomeHistory {
  readonly asOf: string;
  readonly records: readonly OutcomeRecord[];
}

export interface OutcomeQuery {
  /** Records of this category, plus every rollback (a rollback holds whatever the category). */
  readonly category: string;
  /** Only records at or after this time (ISO 8601). */
  readonly since: string;
  readonly limit?: number;
}

/** The most records one history holds (newest first). */
export const HISTORY_LIMIT = 500;

/** How the history changes decisions: a policy's `learning` section (docs/learning.md). */
export const LearningSettingsSchema = z.strictObject({
  /** Turn learning off: the history is neither read nor shown (outcomes are still recorded). */
  enabled: z.boolean().default(true),
  /** An action rolled back on a workload is not executed unattended there again within this window. */
  holdAfterRollback: z
    .string()
    .regex(/^\d+(ms|s|m|h)$/, 'a duration such as 30m or 24h')
    .default('24h'),
  /** Rejections (and shadow contradictions) of an action type for a category that rank it down. */
  rejectionsToRankDown: z.number().int().min(1).default(3),
  /** How far back rejections and verifications count. */
  lookback: z
    .string()
    .regex(/^\d+(ms|s|m|h)$/, 'a duration such as 72h')
    .default('720h'),
  confidenceBoost: z
    .strictObject({
      /** Verified (or shadow-matched) outcomes per step. */
      perVerified: z.number().int().min(1).default(5),
      step: z.number().min(0).max(0.1).default(0.05),
      max: z.number().min(0).max(0.2).default(0.1),
      /** Confidence is never raised above this. */
      ceiling: z.number().min(0).max(0.99).default(0.95),
    })
    .prefault({}),
});
export type LearningSettings = z.infer<typeof LearningSettingsSchema>;
