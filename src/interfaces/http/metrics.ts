/**
 * Prometheus metrics (prom-client), one registry per server. The outcome metrics are fed by the
 * service's events (`RemediationService.onEvent`): they count every execution — synchronous,
 * asynchronous, approved, run in the background — not only the ones an HTTP request waited for.
 * Every metric is listed in docs/serving.md; a test compares that table, this registry and the
 * Grafana dashboard (deploy/helm/kubemend/dashboards/kubemend-dashboard.json).
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { ServiceEvent } from '../../service/remediation-service.js';

export interface Metrics {
  readonly registry: Registry;
  readonly requests: Histogram<'method' | 'route' | 'status'>;
  readonly remediations: Counter<'cluster' | 'category' | 'outcome'>;
  readonly timeToFix: Histogram<'cluster' | 'category'>;
  readonly actions: Counter<'cluster' | 'type' | 'status'>;
  readonly rollbacks: Counter<'cluster' | 'action_type'>;
  readonly shadowOutcomes: Counter<'cluster' | 'category' | 'action_type' | 'outcome'>;
  readonly alerts: Counter<'outcome'>;
}

/** Seconds from a request to its verified fix: from seconds (automatic) to a day (approved late). */
const FIX_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1_800, 3_600, 7_200, 21_600, 86_400];

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kubemend_process_' });
  return {
    registry,
    requests: new Histogram({
      name: 'kubemend_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    remediations: new Counter({
      name: 'kubemend_remediations_total',
      help: 'Remediation sessions reaching an outcome (fixed, rolled-back, pending, rejected, failed), by cluster and category',
      labelNames: ['cluster', 'category', 'outcome'],
      registers: [registry],
    }),
    timeToFix: new Histogram({
      name: 'kubemend_time_to_verified_fix_seconds',
      help: 'Time from the request to the verified fix, by cluster and category',
      labelNames: ['cluster', 'category'],
      buckets: FIX_BUCKETS,
      registers: [registry],
    }),
    actions: new Counter({
      name: 'kubemend_actions_total',
      help: 'Executed actions by type and result status (dry-run, verified, rolled-back, failed, skipped)',
      labelNames: ['cluster', 'type', 'status'],
      registers: [registry],
    }),
    rollbacks: new Counter({
      name: 'kubemend_rollbacks_total',
      help: 'Applied changes restored from their snapshot because verification (or a later action) failed',
      labelNames: ['cluster', 'action_type'],
      registers: [registry],
    }),
    alerts: new Counter({
      name: 'kubemend_alerts_total',
      help: 'Alertmanager alerts received, by what kubemend did (opened, repeated, resolved, already-resolved, unknown)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    shadowOutcomes: new Counter({
      name: 'kubemend_shadow_outcomes_total',
      help: 'Shadow proposals by what really happened (matched, contradicted, resolved-on-its-own, still-broken)',
      labelNames: ['cluster', 'category', 'action_type', 'outcome'],
      registers: [registry],
    }),
  };
}

/**
 * Counts one service event. `cluster` is the event's cluster, empty when it has none (offline):
 * Prometheus treats an empty label as an absent one.
 */
export function countEvent(metrics: Metrics, event: ServiceEvent): void {
  const cluster = event.cluster ?? '';
  switch (event.type) {
    case 'remediation':
      metrics.remediations.inc({ cluster, category: event.category, outcome: event.outcome });
      if (event.secondsToFix !== undefined)
        metrics.timeToFix.observe({ cluster, category: event.category }, event.secondsToFix);
      return;
    case 'action':
      metrics.actions.inc({ cluster, type: event.actionType, status: event.status });
      return;
    case 'rollback':
      metrics.rollbacks.inc({ cluster, action_type: event.actionType });
      return;
    case 'shadow':
      metrics.shadowOutcomes.inc({
        cluster,
        category: event.category,
        action_type: event.actionType,
        outcome: event.outcome,
      });
      return;
  }
}
