/** Prometheus metrics (prom-client), one registry per server. */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly requests: Histogram<'method' | 'route' | 'status'>;
  readonly remediations: Counter<'category' | 'status' | 'source' | 'cluster'>;
  readonly actions: Counter<'type' | 'status' | 'cluster'>;
  readonly aiTokens: Counter<'provider' | 'direction'>;
}

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
      help: 'Remediation sessions by category, status and cluster',
      labelNames: ['category', 'status', 'source', 'cluster'],
      registers: [registry],
    }),
    actions: new Counter({
      name: 'kubemend_actions_total',
      help: 'Executed actions by type, result status and cluster',
      labelNames: ['type', 'status', 'cluster'],
      registers: [registry],
    }),
    aiTokens: new Counter({
      name: 'kubemend_ai_tokens_total',
      help: 'Model tokens by provider and direction',
      labelNames: ['provider', 'direction'],
      registers: [registry],
    }),
  };
}
