/**
 * Gauges read from stored state when Prometheus scrapes, for kubemend's own alerts (the Helm
 * chart's PrometheusRule): how long the oldest approval has been pending, and whether the audit
 * log's hash chain verifies. Verification walks the whole chain, so it runs at most once per
 * interval, in the background; a scrape reports the last result (the first scrape waits for it).
 */
import { Gauge, type Registry } from 'prom-client';
import type { RemediationService } from '../../service/remediation-service.js';
import type { SessionStore } from '../../sessions/store.js';

export interface StateMetricsOptions {
  /** Re-verify the audit chain at most this often (default 5 minutes). */
  readonly auditVerifyIntervalMs?: number;
  readonly now?: () => number;
}

export function registerStateMetrics(
  registry: Registry,
  sources: {
    readonly sessions: SessionStore;
    readonly audit: Pick<RemediationService['auditRecorder'], 'verify'>;
  },
  options: StateMetricsOptions = {},
): void {
  const now = options.now ?? Date.now;
  const interval = options.auditVerifyIntervalMs ?? 300_000;

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

  let last: { at: number; ok: boolean } | undefined;
  let running: Promise<void> | undefined;
  const verify = (): Promise<void> =>
    (running ??= sources.audit
      .verify()
      .then(
        (result) => {
          last = { at: now(), ok: result.ok };
        },
        () => undefined, // storage unavailable: /readyz reports it; keep the last known result
      )
      .finally(() => {
        running = undefined;
      }));
  new Gauge({
    name: 'kubemend_audit_chain_valid',
    help: '1 when the audit log hash chain verifies, 0 when a record was altered, removed or inserted',
    registers: [registry],
    async collect() {
      if (!last) await verify();
      else if (now() - last.at >= interval) void verify();
      if (last) this.set(last.ok ? 1 : 0);
    },
  });
}
