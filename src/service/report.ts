/**
 * `kubemend report` and GET /v1/reports/shadow (ADR 0036): a bounded scan of the sessions created
 * in the range (oldest first, at most REPORT_SCAN_LIMIT; beyond it the report says `truncated`),
 * summarised by `reports/report.ts`. JSON columns are decoded only when read: the request a
 * session carries — its largest column — is never parsed.
 */
import { type Report, summarise } from '../reports/report.js';
import type { ReportRange } from '../reports/range.js';
import type { ServiceContext } from './context.js';

export const REPORT_SCAN_LIMIT = 200_000;

export async function buildReport(
  ctx: ServiceContext,
  range: ReportRange,
  limit = REPORT_SCAN_LIMIT,
): Promise<Report> {
  const sessions = await ctx.sessions.listCreated({ ...range, limit: limit + 1 });
  const truncated = sessions.length > limit;
  return summarise(truncated ? sessions.slice(0, limit) : sessions, {
    ...range,
    generatedAt: ctx.now(),
    truncated,
  });
}
