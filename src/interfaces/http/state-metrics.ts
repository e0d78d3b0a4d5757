/**
 * Gauges read from stored state when Prometheus scrapes, for kubemend's own alerts (the Helm
 * chart's PrometheusRule): how long the oldest approval has been pending, and whether the audit
 * log's hash chain verifies. The chain is verified by the service (whole at start-up, then
 * incrementally every `audit.verifyInterval`); a scrape reports its last result, and the first
 * scrape of a process that has not verified yet waits for a verification.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ChainStatus } from '../../service/audit-integrity.js';
import type { OutboxBacklog } from '../../sessions/companions.js';
import type { SessionStore } from '../../sessions/store.js';

export interface StateMetricsOptions {
  readonly now?: () => number;
}

export function registerStateMetrics(
  registry: Registry,
  sources: {
    readonly sessions: SessionStore;
    /** The service's view of the audit chain (`auditChainStatus`, `verifyAuditChain`). */
    readonly chain: { status(): ChainStatus; check(): Promise<ChainStatus> };
  },
  options: StateMetricsOptions = {},
): void {
  const now = options.now ?? Date.now;

  const pendingAges = async (): Promise<number[]> =>
    (await sources.sessions.list({ state: 'pending' })).map(
      (session) => (now() - Date.parse(session.createdAt)) / 1000,
    );
  new Gauge({
    name: 'kubemend_pending_approvals',
    help: 'Sessions waiting for approval',
    registers: [registry],
    async collect() {
      this.set((await pendingAges()).length);
    },
  });
  new Gauge({
    name: 'kubemend_pending_approval_oldest_age_seconds',
    help: 'Age of the oldest session waiting for approval (0 when none waits)',
    registers: [registry],
    async collect() {
      this.set(Math.max(0, ...(await pendingAges())));
    },
  });
  const known = async (): Promise<ChainStatus> => {
    const status = sources.chain.status();
    return status.state === 'unknown' ? sources.chain.check() : status;
  };
  new Gauge({
    name: 'kubemend_audit_chain_valid',
    help: '1 when the audit log hash chain verifies, 0 when a record was altered, removed or inserted',
    registers: [registry],
    async collect() {
      const status = await known();
      if (status.state !== 'unknown') this.set(status.state === 'valid' ? 1 : 0);
    },
  });
  // The notification outbox: its three gauges are collected together at a scrape and share one
  // aggregate query (the one in flight), so a scrape reads the outbox once.
  let backlog: Promise<OutboxBacklog> | undefined;
  const readBacklog = (): Promise<OutboxBacklog> =>
    (backlog ??= sources.sessions.outbox.backlog().finally(() => {
      backlog = undefined;
    }));
  new Gauge({
    name: 'kubemend_notifications_waiting',
    help: 'Notifications in the outbox not yet delivered (and not given up)',
    registers: [registry],
    async collect() {
      this.set((await readBacklog()).waiting);
    },
  });
  new Gauge({
    name: 'kubemend_notification_oldest_waiting_age_seconds',
    help: 'Age of the oldest notification waiting for delivery (0 when none waits)',
    registers: [registry],
    async collect() {
      const oldest = (await readBacklog()).oldestWaitingAt;
      this.set(oldest === undefined ? 0 : Math.max(0, (now() - Date.parse(oldest)) / 1000));
    },
  });
  new Gauge({
    name: 'kubemend_notifications_dead',
    help: 'Notifications given up after their retries (see the sink and its last error)',
    registers: [registry],
    async collect() {
      this.set((await readBacklog()).dead);
    },
  });
  new Gauge({
    name: 'kubemend_audit_chain_verified_records',
    help: 'Sequence of the last audit record verified (0 while the chain is broken)',
    registers: [registry],
    async collect() {
      const status = await known();
      this.set(status.state === 'valid' ? (status.verified?.sequence ?? 0) : 0);
    },
  });
}
