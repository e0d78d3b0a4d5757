/**
 * A scan report for people: one table row per finding — where, what, the category and confidence,
 * the cause in one line and the proposed action with its risk — then what was checked and what could
 * not be read. `width` (a terminal's columns) shortens the cause to fit; without it nothing is cut.
 */
import { KIND_SHORT_NAMES, type ScanFinding, type ScanReport, type TargetKind } from '../domain/index.js';

const HEADERS = ['NAMESPACE', 'OBJECT', 'CATEGORY', 'CONFIDENCE', 'CAUSE', 'ACTION (RISK)'] as const;

function shortKind(kind: string): string {
  return (
    (KIND_SHORT_NAMES as Readonly<Record<string, string | undefined>>)[kind as TargetKind] ??
    kind.toLowerCase()
  );
}

/** The action a person would look at first: the first executable one, else the first advice. */
function primaryAction(finding: ScanFinding): string {
  const action = finding.actions.find((a) => a.type !== 'manual') ?? finding.actions[0];
  if (!action) return '-';
  const more = finding.actions.length > 1 ? ` (+${finding.actions.length - 1})` : '';
  return `${action.type}: ${action.description} (${action.risk})${more}`;
}

function row(finding: ScanFinding): string[] {
  return [
    finding.object.namespace ?? '-',
    `${shortKind(finding.object.kind)}/${finding.object.name}`,
    finding.category,
    finding.confidence.toFixed(2),
    finding.cause,
    primaryAction(finding),
  ];
}

function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(1, width - 1))}…`;
}

export function renderScanTable(report: ScanReport, options: { width?: number } = {}): string {
  const lines: string[] = [];
  if (report.findings.length > 0) {
    const rows = report.findings.map(row);
    const widths = HEADERS.map((header, column) =>
      Math.max(header.length, ...rows.map((cells) => cells[column]!.length)),
    );
    if (options.width) {
      // Share what is left after the fixed columns between the cause and the action.
      const fixed = widths.slice(0, 4).reduce((sum, w) => sum + w + 2, 0);
      const rest = Math.max(40, options.width - fixed - 2);
      widths[4] = Math.min(widths[4]!, Math.max(20, Math.floor(rest * 0.6)));
      widths[5] = Math.min(widths[5]!, Math.max(20, rest - widths[4]! - 2));
    }
    const format = (cells: readonly string[]) =>
      cells
        .map((cell, column) =>
          fit(cell, widths[column]!).padEnd(column === cells.length - 1 ? 0 : widths[column]!),
        )
        .join('  ')
        .trimEnd();
    lines.push(format(HEADERS), ...rows.map(format), '');
  }
  lines.push(summaryLine(report));
  if (report.findings.length > 0)
    lines.push(
      'Details and fixes: kubemend analyze TYPE/NAME -n NAMESPACE (the OBJECT column), or --output json.',
    );
  for (const note of report.notes) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}

export function summaryLine(report: ScanReport): string {
  const where = report.scope.allNamespaces
    ? 'all namespaces'
    : `namespace${(report.scope.namespaces?.length ?? 0) > 1 ? 's' : ''} ${report.scope.namespaces?.join(', ') ?? ''}`;
  const selector = report.scope.labelSelector ? ` with labels ${report.scope.labelSelector}` : '';
  const checked = Object.entries(report.checked)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${count} ${kind}`)
    .join(', ');
  const found =
    report.findings.length === 0
      ? 'No failing objects'
      : `${report.findings.length} failing object${report.findings.length === 1 ? '' : 's'}`;
  return `${found} in ${where}${selector} (checked ${checked || 'nothing'}${report.settling > 0 ? `; ${report.settling} still starting, not judged` : ''}; ${report.apiCalls} API calls, ${report.durationMs} ms${report.partial ? '; partial' : ''}).`;
}
