/**
 * Audit records that carry their cluster: every record a cluster's requests write gets
 * `detail.cluster`, whatever module writes it (requests, approvals, the execution engine,
 * reconciliation), so one shared hash chain tells the clusters apart.
 */
import type { AuditEntry, AuditRecorder } from '../audit/recorder.js';

export function auditWithCluster(audit: AuditRecorder, cluster: string | undefined): AuditRecorder {
  if (cluster === undefined) return audit;
  const stamp = (entry: AuditEntry): AuditEntry => ({ ...entry, detail: { ...entry.detail, cluster } });
  return {
    record: (entry) => audit.record(stamp(entry)),
    recordAll: (entries) => audit.recordAll(entries.map(stamp)),
    list: (query) => audit.list(query),
    verify: () => audit.verify(),
  };
}
