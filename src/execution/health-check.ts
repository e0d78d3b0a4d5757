/**
 * One health reading of a target, now: the object and what its health depends on (its pods and
 * ReplicaSets, a Service's Endpoints) read once through the gateway, judged by `assessHealth`.
 * For a single look (the shadow observer at the end of a window); verification watches instead.
 */
import type { ClusterGateway, ObjectKey } from '../cluster/gateway.js';
import { assessHealth, type HealthReport, type HealthView, healthSources } from './health.js';

export async function checkHealth(gateway: ClusterGateway, key: ObjectKey): Promise<HealthReport> {
  const object = await gateway.get(key);
  let view: HealthView = { object };
  for (const source of healthSources(key, object)) {
    if (source.role === 'object') continue;
    const items = await gateway.list(source.kind, source.namespace, {
      ...(source.labelSelector !== undefined ? { labelSelector: source.labelSelector } : {}),
      ...(source.fieldSelector !== undefined ? { fieldSelector: source.fieldSelector } : {}),
    });
    view =
      source.role === 'endpoints'
        ? { ...view, ...(items[0] ? { endpoints: items[0] } : {}) }
        : { ...view, [source.role]: items };
  }
  return assessHealth(key, view);
}
