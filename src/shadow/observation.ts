/**
 * A shadow session's observation (ADR 0035), pure: the record made when the dry-runs are done, who
 * wrote an object during the window (managedFields), and when — and with which outcome — the
 * observation ends. The service reads the cluster and the store; everything decided here is
 * table-tested.
 */
import type {
  ActionType,
  Category,
  ShadowAction,
  ShadowObservation,
  ShadowOutcome,
} from '../domain/index.js';
import type { Comparison } from './compare.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The bounded view kept of an object: identity, labels, annotations, spec and data (no status). */
export function shadowView(object: unknown): Json | undefined {
  if (!isObject(object)) return undefined;
  const metadata = isObject(object['metadata']) ? object['metadata'] : {};
  return {
    apiVersion: object['apiVersion'],
    kind: object['kind'],
    metadata: {
      name: metadata['name'],
      namespace: metadata['namespace'],
      uid: metadata['uid'],
      resourceVersion: metadata['resourceVersion'],
      generation: metadata['generation'],
      labels: metadata['labels'],
      annotations: metadata['annotations'],
    },
    ...(object['spec'] !== undefined ? { spec: object['spec'] } : {}),
    ...(object['data'] !== undefined ? { data: object['data'] } : {}),
  };
}

/** One action the policy would have executed, as the engine's dry-run left it. */
export interface DryRunReport {
  readonly actionId: string;
  readonly type: ActionType;
  readonly target: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly passed: boolean;
  readonly message: string;
  readonly before?: unknown;
  readonly dryRun?: unknown;
}

export function startObservation(
  category: Category,
  reports: readonly DryRunReport[],
  startedAt: Date,
  windowMs: number,
): ShadowObservation {
  return {
    category,
    startedAt: startedAt.toISOString(),
    windowEndsAt: new Date(startedAt.getTime() + windowMs).toISOString(),
    actions: reports.map((report) => {
      const before = shadowView(report.before);
      const after = report.passed ? shadowView(report.dryRun) : undefined;
      return {
        actionId: report.actionId,
        type: report.type,
        target: report.target,
        kind: report.kind,
        ...(report.namespace !== undefined ? { namespace: report.namespace } : {}),
        name: report.name,
        dryRun: report.passed ? 'passed' : 'failed',
        message: report.message,
        ...(before ? { before } : {}),
        ...(after ? { after } : {}),
      };
    }),
  };
}

/**
 * Field managers that wrote the object at or after `since` (managedFields times have one-second
 * precision), other than kubemend itself.
 */
export function writersSince(object: unknown, since: string, self = 'kubemend'): string[] {
  if (!isObject(object) || !isObject(object['metadata'])) return [];
  const entries = object['metadata']['managedFields'];
  if (!Array.isArray(entries)) return [];
  const from = Math.floor(Date.parse(since) / 1000) * 1000;
  const names = new Set<string>();
  for (const entry of entries) {
    if (!isObject(entry)) continue;
    const manager = entry['manager'];
    const time = typeof entry['time'] === 'string' ? Date.parse(entry['time']) : NaN;
    if (typeof manager === 'string' && manager !== self && time >= from) names.add(manager);
  }
  return [...names].sort();
}

/** One observation round: each dry-run-passed action's comparison with the live object. */
export interface RoundResult {
  readonly comparisons: ReadonlyArray<{
    readonly actionId: string;
    readonly comparison: Comparison;
    readonly changedBy: readonly string[];
  }>;
  /** Whether the window is over. */
  readonly windowOver: boolean;
  /** The target's health, read when the window is over and nobody changed it. */
  readonly healthy?: boolean;
  readonly healthDetail?: string;
}

/**
 * The observation after a round: settled (with an outcome) when a person changed a target —
 * contradicted if any change went against a proposal, else matched — or when the window is over
 * (resolved on its own when the target is healthy, still broken otherwise); `undefined` while
 * there is still time and nothing happened.
 */
export function settle(
  observation: ShadowObservation,
  round: RoundResult,
  now: Date,
): ShadowObservation | undefined {
  const verdictOf = (id: string) => round.comparisons.find((entry) => entry.actionId === id);
  const changed = round.comparisons.filter((entry) => entry.comparison.verdict !== 'unchanged');
  let outcome: ShadowOutcome;
  let detail: string;
  if (changed.some((entry) => entry.comparison.verdict === 'contradicted')) {
    outcome = 'contradicted';
    detail = changed.map((entry) => `${entry.actionId}: ${entry.comparison.reason}`).join('; ');
  } else if (changed.length > 0) {
    outcome = 'matched';
    detail = changed.map((entry) => `${entry.actionId}: ${entry.comparison.reason}`).join('; ');
  } else if (round.windowOver) {
    outcome = round.healthy === true ? 'resolved-on-its-own' : 'still-broken';
    detail =
      round.healthy === true
        ? `healthy again with no change to the spec (${round.healthDetail ?? 'healthy'})`
        : `the window ended with no change and the target unhealthy (${round.healthDetail ?? 'unknown'})`;
  } else {
    return undefined;
  }
  // An action whose own target a person changed has its own verdict; the others share the session's.
  const actions = observation.actions.map((action): ShadowAction => {
    const entry = verdictOf(action.actionId);
    if (!entry) return { ...action, outcome };
    const verdict = entry.comparison.verdict;
    return {
      ...action,
      outcome: verdict === 'unchanged' ? outcome : verdict,
      fields: entry.comparison.fields,
      ...(entry.changedBy.length > 0 ? { changedBy: entry.changedBy } : {}),
    };
  });
  return { ...observation, actions, outcome, observedAt: now.toISOString(), detail };
}
