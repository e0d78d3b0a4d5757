/**
 * The closed vocabularies of the public contract (shared/spec/contract.md).
 * Stable identifiers: extend, never rename. Each is an `as const` array with a derived union.
 */

export const CATEGORIES = [
  'oom-killed',
  'crash-loop',
  'config-missing',
  'image-pull-not-found',
  'image-pull-auth',
  'invalid-command',
  'liveness-probe-failure',
  'readiness-probe-failure',
  'insufficient-resources',
  'scheduling-constraints',
  'volume-pending',
  'volume-mount-failure',
  'node-not-ready',
  'node-pressure-eviction',
  'quota-exceeded',
  'rollout-stuck',
  'service-no-endpoints',
  'job-failed',
  'hpa-limited',
  'dependency-failure',
  'permission-denied',
  'security-context',
  'cpu-throttling',
  'healthy',
  'unknown',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** The 23 failure categories: every Category except `healthy` and `unknown`. */
export const FAILURE_CATEGORIES = CATEGORIES.filter(
  (category): category is Exclude<Category, 'healthy' | 'unknown'> =>
    category !== 'healthy' && category !== 'unknown',
);
export type FailureCategory = (typeof FAILURE_CATEGORIES)[number];

export const ACTION_TYPES = [
  'patch',
  'scale',
  'restart',
  'rollback',
  'delete',
  'cordon',
  'uncordon',
  'create',
  'manual',
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/** Action types that change the cluster. `manual` is advice for a person. */
export const EXECUTABLE_ACTION_TYPES = ACTION_TYPES.filter(
  (type): type is Exclude<ActionType, 'manual'> => type !== 'manual',
);

export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export const PATCH_TYPES = ['strategic', 'merge', 'json'] as const;
export type PatchType = (typeof PATCH_TYPES)[number];

export const MODES = ['manual', 'automatic', 'hybrid'] as const;
export type Mode = (typeof MODES)[number];

export const OUTPUT_STATUSES = ['success', 'pending', 'failed'] as const;
export type OutputStatus = (typeof OUTPUT_STATUSES)[number];

/** What became of an action, as the outcome history records it (docs/learning.md). */
export const OUTCOME_KINDS = ['verified', 'rolled-back', 'rejected', 'matched', 'contradicted'] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

export const ANALYSIS_SOURCES = ['rules', 'ai', 'rules+ai'] as const;
export type AnalysisSource = (typeof ANALYSIS_SOURCES)[number];

export const EXECUTION_STATUSES = [
  'dry-run',
  'applied',
  'verified',
  'failed',
  'rolled-back',
  'skipped',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** How the mode and policy decided about one proposed action (kubemend extension of the contract). */
export const ACTION_DECISIONS = ['execute', 'await-approval', 'denied', 'advice'] as const;
export type ActionDecision = (typeof ACTION_DECISIONS)[number];

/**
 * Who owns an object's desired state (kubemend extension): Argo CD or Flux sync it from Git, Helm
 * renders it from a release's values. A live change to such an object is undone by the next sync
 * or upgrade.
 */
export const DESIRED_STATE_MANAGERS = ['argocd', 'flux', 'helm'] as const;
export type DesiredStateManager = (typeof DESIRED_STATE_MANAGERS)[number];

/** Where a piece of evidence came from (kubemend extension of the contract). */
export const EVIDENCE_ORIGINS = ['input', 'cluster'] as const;
export type EvidenceOrigin = (typeof EVIDENCE_ORIGINS)[number];

/** Where a log quote came from: the caller's logs, or a container's own (current or previous) output. */
export const LOG_SOURCES = ['caller', 'container-current', 'container-previous'] as const;
export type LogSourceName = (typeof LOG_SOURCES)[number];

/**
 * How the object an analysis is about was chosen (kubemend extension): named by the request
 * (`input`), taken from its context (`context`: the event's object, the pod), found from the words
 * of the issue (`words`), picked from a scan of the namespace the words name (`scan`), or not found
 * (`unresolved`: the answer says what is needed).
 */
export const TARGET_CHOICES = ['input', 'context', 'words', 'scan', 'unresolved'] as const;
export type TargetChoice = (typeof TARGET_CHOICES)[number];

export const EVIDENCE_KINDS = ['event', 'log', 'status', 'spec', 'metric', 'condition', 'issue'] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

const RISK_ORDER: Readonly<Record<RiskLevel, number>> = { low: 0, medium: 1, high: 2 };

export function riskRank(risk: RiskLevel): number {
  return RISK_ORDER[risk];
}

export function maxRisk(...risks: readonly RiskLevel[]): RiskLevel {
  let highest: RiskLevel = 'low';
  for (const risk of risks) if (RISK_ORDER[risk] > RISK_ORDER[highest]) highest = risk;
  return highest;
}

export function isCategory(value: unknown): value is Category {
  return typeof value === 'string' && (CATEGORIES as readonly string[]).includes(value);
}
