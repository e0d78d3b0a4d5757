/**
 * The report (ADR 0036): what a team needs to read before turning on automatic, summarised from
 * the session store over a range of request times — pure, over session records.
 *
 * - Shadow agreement, by category and action type: proposals (executable actions proposed in
 *   shadow sessions), would-execute (those automatic would have run), dry-run failures, and what
 *   happened to them — matched a person's fix, contradicted it, resolved on its own, still broken,
 *   still observing. Agreement = matched / (matched + contradicted).
 * - Per category, over sessions that are not shadow: MTTR (mean and median seconds from the request
 *   to the verified fix), the auto-fix rate (sessions verified with no approval ÷ targeted sessions,
 *   targeted = a failure category, not `healthy` or `unknown`), fixed, rolled back (fixes that made
 *   things worse and were undone), failed, rejected, pending.
 */
import { type ActionType, type Category, FAILURE_CATEGORIES, type ShadowOutcome } from '../domain/index.js';
import type { ReportedSession } from '../sessions/store.js';

export interface ShadowRow {
  readonly category: Category;
  readonly actionType: ActionType;
  readonly proposals: number;
  readonly wouldExecute: number;
  readonly dryRunFailures: number;
  readonly matched: number;
  readonly contradicted: number;
  readonly resolvedOnItsOwn: number;
  readonly stillBroken: number;
  readonly observing: number;
}

export interface CategoryRow {
  readonly category: Category;
  readonly sessions: number;
  readonly targeted: number;
  readonly fixed: number;
  readonly fixedAutomatically: number;
  /** fixedAutomatically / targeted; null when nothing was targeted. */
  readonly autoFixRate: number | null;
  /** Mean seconds from request to verified fix; null when nothing was fixed. */
  readonly mttrSeconds: number | null;
  readonly medianSecondsToFix: number | null;
  readonly rolledBack: number;
  readonly failed: number;
  readonly rejected: number;
  readonly pending: number;
}

export interface Report {
  readonly from?: string;
  readonly to?: string;
  readonly generatedAt: string;
  /** Sessions read (shadow and not). */
  readonly sessions: number;
  /** More sessions than the scan's bound were in the range: the report covers the oldest ones. */
  readonly truncated: boolean;
  readonly shadow: {
    readonly sessions: number;
    readonly rows: readonly ShadowRow[];
    readonly totals: Omit<ShadowRow, 'category' | 'actionType'>;
    /** matched / (matched + contradicted); null when no person changed anything. */
    readonly agreementRate: number | null;
  };
  readonly categories: readonly CategoryRow[];
}

const TARGETED: ReadonlySet<string> = new Set(FAILURE_CATEGORIES);

/** A shadow session: it has a shadow record, or its plan was decided in shadow mode (offline). */
export function isShadowSession(session: ReportedSession): boolean {
  if (session.shadow !== undefined) return true;
  return (session.output?.remediation.actions ?? []).some((action) =>
    action.decision?.reason.startsWith('shadow mode'),
  );
}

const OUTCOME_FIELD: Readonly<
  Record<ShadowOutcome, 'matched' | 'contradicted' | 'resolvedOnItsOwn' | 'stillBroken'>
> = {
  matched: 'matched',
  contradicted: 'contradicted',
  'resolved-on-its-own': 'resolvedOnItsOwn',
  'still-broken': 'stillBroken',
};

type Counts = { -readonly [K in keyof Omit<ShadowRow, 'category' | 'actionType'>]: number };
const zero = (): Counts => ({
  proposals: 0,
  wouldExecute: 0,
  dryRunFailures: 0,
  matched: 0,
  contradicted: 0,
  resolvedOnItsOwn: 0,
  stillBroken: 0,
  observing: 0,
});

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const round = (value: number) => Math.round(value * 1000) / 1000;

export function summarise(
  sessions: readonly ReportedSession[],
  options: { from?: string; to?: string; generatedAt: string; truncated: boolean },
): Report {
  const shadowRows = new Map<string, { category: Category; actionType: ActionType; counts: Counts }>();
  const categories = new Map<
    Category,
    { row: Omit<CategoryRow, 'autoFixRate' | 'mttrSeconds' | 'medianSecondsToFix'>; times: number[] }
  >();
  let shadowSessions = 0;
  for (const session of sessions) {
    const output = session.output;
    if (!output) continue;
    const category = output.analysis.category;
    if (isShadowSession(session)) {
      shadowSessions++;
      const recorded = new Map((session.shadow?.actions ?? []).map((action) => [action.actionId, action]));
      for (const action of output.remediation.actions) {
        if (action.type === 'manual') continue;
        const key = `${category}\u0000${action.type}`;
        let entry = shadowRows.get(key);
        if (!entry) shadowRows.set(key, (entry = { category, actionType: action.type, counts: zero() }));
        const counts = entry.counts;
        counts.proposals++;
        if (action.decision?.decision === 'execute') counts.wouldExecute++;
        const shadow = recorded.get(action.id);
        if (!shadow) continue;
        if (shadow.dryRun === 'failed') counts.dryRunFailures++;
        if (shadow.outcome) counts[OUTCOME_FIELD[shadow.outcome]]++;
        else if (session.state === 'observing') counts.observing++;
      }
      continue;
    }
    let entry = categories.get(category);
    if (!entry) {
      entry = {
        row: {
          category,
          sessions: 0,
          targeted: 0,
          fixed: 0,
          fixedAutomatically: 0,
          rolledBack: 0,
          failed: 0,
          rejected: 0,
          pending: 0,
        },
        times: [],
      };
      categories.set(category, entry);
    }
    const row = entry.row as { -readonly [K in keyof typeof entry.row]: (typeof entry.row)[K] };
    row.sessions++;
    if (TARGETED.has(category)) row.targeted++;
    switch (session.state) {
      case 'verified':
        row.fixed++;
        if (session.approvals.length === 0) row.fixedAutomatically++;
        entry.times.push((Date.parse(session.updatedAt) - Date.parse(session.createdAt)) / 1000);
        break;
      case 'rolled-back':
        row.rolledBack++;
        break;
      case 'failed':
        row.failed++;
        break;
      case 'rejected':
        row.rejected++;
        break;
      case 'pending':
        row.pending++;
        break;
      default:
        break;
    }
  }
  const rows = [...shadowRows.values()]
    .map(({ category, actionType, counts }) => ({ category, actionType, ...counts }))
    .sort((a, b) => a.category.localeCompare(b.category) || a.actionType.localeCompare(b.actionType));
  const totals = zero();
  for (const row of rows)
    for (const key of Object.keys(totals) as Array<keyof Counts>) totals[key] += row[key];
  const judged = totals.matched + totals.contradicted;
  return {
    ...(options.from !== undefined ? { from: options.from } : {}),
    ...(options.to !== undefined ? { to: options.to } : {}),
    generatedAt: options.generatedAt,
    sessions: sessions.length,
    truncated: options.truncated,
    shadow: {
      sessions: shadowSessions,
      rows,
      totals,
      agreementRate: judged === 0 ? null : round(totals.matched / judged),
    },
    categories: [...categories.values()]
      .map(({ row, times }) => ({
        ...row,
        autoFixRate: row.targeted === 0 ? null : round(row.fixedAutomatically / row.targeted),
        mttrSeconds: times.length === 0 ? null : round(times.reduce((a, b) => a + b, 0) / times.length),
        medianSecondsToFix: median(times),
      }))
      .sort((a, b) => a.category.localeCompare(b.category)),
  };
}
