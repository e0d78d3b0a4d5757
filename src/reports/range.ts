/**
 * The range a report covers, from what a person types: `since` (a duration back from now: 30m,
 * 12h, 7d) or `from`/`to` (ISO 8601 times). Bad input names its field (the CLI's flag, the query
 * parameter) and nothing is read.
 */
import { type FieldIssue, InvalidInputError } from '../domain/index.js';

export interface ReportRangeInput {
  readonly since?: string;
  readonly from?: string;
  readonly to?: string;
}

export interface ReportRange {
  readonly from?: string;
  readonly to?: string;
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function time(field: string, value: string, issues: FieldIssue[]): string | undefined {
  const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    issues.push({ path: field, message: `an ISO 8601 time such as 2026-12-01T00:00:00Z (got "${value}")` });
    return undefined;
  }
  return new Date(ms).toISOString();
}

/** `names` maps each input field to how the caller spells it (`--since`, `since`). */
export function reportRange(
  input: ReportRangeInput,
  now: Date,
  names: Readonly<Record<keyof ReportRangeInput, string>> = { since: 'since', from: 'from', to: 'to' },
): ReportRange {
  const issues: FieldIssue[] = [];
  let from: string | undefined;
  let to: string | undefined;
  if (input.since !== undefined) {
    if (input.from !== undefined)
      issues.push({ path: names.since, message: `give either ${names.since} or ${names.from}, not both` });
    const match = DURATION.exec(input.since.trim());
    if (!match)
      issues.push({ path: names.since, message: `a duration such as 30m, 12h or 7d (got "${input.since}")` });
    else from = new Date(now.getTime() - Number(match[1]) * (UNIT_MS[match[2]!] ?? 0)).toISOString();
  }
  if (input.from !== undefined) from = time(names.from, input.from, issues) ?? from;
  if (input.to !== undefined) to = time(names.to, input.to, issues);
  if (from !== undefined && to !== undefined && from >= to && issues.length === 0)
    issues.push({ path: names.to, message: `must be after ${names.from} (${from})` });
  if (issues.length > 0) throw new InvalidInputError(issues);
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}
