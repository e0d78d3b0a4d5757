/**
 * `kubemend report [--since DURATION | --from TIME [--to TIME]] [--json]` (ADR 0036): shadow
 * agreement by category and action type, MTTR and auto-fix rate per category, read from the
 * configured session store (never the cluster).
 */
import { createApplication } from '../../app.js';
import type { CategoryRow, Report, ShadowRow } from '../../reports/report.js';
import { reportRange } from '../../reports/range.js';
import { type CommonFlags, configurationFrom } from './options.js';

export interface ReportFlags extends CommonFlags {
  since?: string;
  from?: string;
  to?: string;
  json?: boolean;
}

export async function report(flags: ReportFlags): Promise<number> {
  const configuration = configurationFrom(flags);
  const range = reportRange(flags, new Date(), { since: '--since', from: '--from', to: '--to' });
  const app = await createApplication(configuration, { cluster: null });
  try {
    const summary = await app.service.report(range);
    process.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : renderReport(summary));
    return 0;
  } finally {
    await app.close();
  }
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(headers), ...rows.map(line)].join('\n');
}

const percent = (value: number | null) => (value === null ? '-' : `${Math.round(value * 100)}%`);
const seconds = (value: number | null) =>
  value === null ? '-' : value < 120 ? `${Math.round(value)}s` : `${Math.round(value / 60)}m`;

const SHADOW_COLUMNS: ReadonlyArray<[string, keyof ShadowRow]> = [
  ['proposals', 'proposals'],
  ['would-execute', 'wouldExecute'],
  ['dry-run-failed', 'dryRunFailures'],
  ['matched', 'matched'],
  ['contradicted', 'contradicted'],
  ['resolved', 'resolvedOnItsOwn'],
  ['still-broken', 'stillBroken'],
  ['observing', 'observing'],
];

export function renderReport(summary: Report): string {
  const range = `${summary.from ?? 'the beginning'} to ${summary.to ?? 'now'}`;
  const out = [
    `kubemend report: ${summary.sessions} session(s) created from ${range}${summary.truncated ? ' (truncated: narrow the range)' : ''}`,
    '',
    `Shadow mode: ${summary.shadow.sessions} session(s), agreement with people ${percent(summary.shadow.agreementRate)} (matched / (matched + contradicted))`,
  ];
  if (summary.shadow.rows.length > 0)
    out.push(
      table(
        ['category', 'action', ...SHADOW_COLUMNS.map(([name]) => name)],
        summary.shadow.rows.map((row) => [
          row.category,
          row.actionType,
          ...SHADOW_COLUMNS.map(([, key]) => String(row[key])),
        ]),
      ),
    );
  out.push('', 'Remediations (not shadow): time to verified fix and auto-fix rate per category');
  const columns: ReadonlyArray<[string, (row: CategoryRow) => string]> = [
    ['sessions', (row) => String(row.sessions)],
    ['fixed', (row) => String(row.fixed)],
    ['auto-fixed', (row) => String(row.fixedAutomatically)],
    ['auto-fix rate', (row) => percent(row.autoFixRate)],
    ['MTTR', (row) => seconds(row.mttrSeconds)],
    ['median', (row) => seconds(row.medianSecondsToFix)],
    ['rolled-back', (row) => String(row.rolledBack)],
    ['failed', (row) => String(row.failed)],
    ['rejected', (row) => String(row.rejected)],
    ['pending', (row) => String(row.pending)],
  ];
  if (summary.categories.length > 0)
    out.push(
      table(
        ['category', '', ...columns.map(([name]) => name)],
        summary.categories.map((row) => [row.category, '', ...columns.map(([, cell]) => cell(row))]),
      ),
    );
  else out.push('(none)');
  return `${out.join('\n')}\n`;
}
