/**
 * Audit records that carry their cluster: every record a cluster's requests write gets
 * `detail.cluster`, whatever module writes it (requests, approvals, the execution engine,
 * reconciliation) and however (the audit log directly, or with a session change in one
 * transaction, `WriteOptions.audit`), so one shared hash chain tells the clusters apart.
 */
import type { AuditEntry, AuditRecorder } from '../audit/recorder.js';
import type { SessionStore, WriteOptions } from '../sessions/store.js';

function stamp(entry: AuditEntry, cluster: string): AuditEntry {
  return { ...entry, detail: { ...entry.detail, cluster } };
}

export function auditWithCluster(audit: AuditRecorder, cluster: string | undefined): AuditRecorder {
  if (cluster === undefined) return audit;
  return {
    record: (entry) => audit.record(stamp(entry, cluster)),
    recordAll: (entries) => audit.recordAll(entries.map((entry) => stamp(entry, cluster))),
    list: (query) => audit.list(query),
    verify: (from) => audit.verify(from),
  };
}

/** The session store, with the audit records of its writes stamped (and its `audit` too). */
export function sessionsWithCluster(store: SessionStore, cluster: string | undefined): SessionStore {
  if (cluster === undefined) return store;
  const audit = auditWithCluster(store.audit, cluster);
  const stamped = (options?: WriteOptions): WriteOptions | undefined =>
    options?.audit ? { ...options, audit: options.audit.map((entry) => stamp(entry, cluster)) } : options;
  const wrapped: Partial<SessionStore> = {
    audit,
    create: (session, options) => store.create(session, stamped(options)),
    update: (id, version, changes, options) => store.update(id, version, changes, stamped(options)),
    transition: (id, from, to, changes, options) => store.transition(id, from, to, changes, stamped(options)),
  };
  return new Proxy(store, {
    get(target, property) {
      if (property in wrapped) return wrapped[property as keyof SessionStore];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
