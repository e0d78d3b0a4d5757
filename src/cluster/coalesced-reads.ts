/**
 * Reads for analysis, coalesced: while a read (`get`, `list`, `logs`, `version`) is in flight, an
 * identical one joins it instead of calling the API server again. An alert storm — dozens of
 * requests about one workload at the same moment — then costs the API server one gathering, not
 * one per request. Nothing is cached: a read that starts after the shared one answered calls
 * again, so no caller sees an answer older than its own request by more than one round trip.
 * Every caller gets its own copy (analysis may normalise what it reads). Writes pass through.
 * Only analysis uses this: execution reads its snapshot and preconditions directly.
 */
import type { ClusterGateway, KubeObject, ListOptions, LogOptions, ObjectKey } from './gateway.js';

export function coalescedReads(gateway: ClusterGateway): ClusterGateway {
  const inFlight = new Map<string, Promise<unknown>>();
  const shared = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    let pending = inFlight.get(key) as Promise<T> | undefined;
    if (pending === undefined) {
      pending = read().finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending.then((value) => structuredClone(value));
  };
  const reads: Partial<ClusterGateway> = {
    version: () => shared('version', () => gateway.version()),
    get: (key: ObjectKey): Promise<KubeObject | undefined> =>
      shared(`get ${JSON.stringify([key.kind, key.namespace, key.name])}`, () => gateway.get(key)),
    list: (kind: string, namespace?: string, options?: ListOptions): Promise<KubeObject[]> =>
      shared(
        `list ${JSON.stringify([kind, namespace, options?.labelSelector, options?.fieldSelector, options?.limit])}`,
        () => gateway.list(kind, namespace, options),
      ),
    logs: (namespace: string, pod: string, container: string, options?: LogOptions): Promise<string> =>
      shared(
        `logs ${JSON.stringify([namespace, pod, container, options?.previous, options?.tailLines, options?.limitBytes])}`,
        () => gateway.logs(namespace, pod, container, options),
      ),
  };
  // Everything else (writes, watch, server) is the gateway's own, called on the gateway.
  return new Proxy(gateway, {
    get(target, property) {
      if (Object.prototype.hasOwnProperty.call(reads, property))
        return reads[property as keyof ClusterGateway];
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
