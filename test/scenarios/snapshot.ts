// "Nothing changed": every object's metadata.generation and spec (or data, rules, ... for kinds
// without a spec) in the scenario's namespaces, before and after kubemend's step.
import { createHash } from 'node:crypto';

/** Kinds whose objects change by themselves while a workload runs: not part of the comparison. */
export const VOLATILE_RESOURCES = new Set([
  'events',
  'events.events.k8s.io',
  'endpoints',
  'endpointslices.discovery.k8s.io',
  'leases.coordination.k8s.io',
  'localsubjectaccessreviews.authorization.k8s.io',
  'bindings',
  'podtemplates',
  'pods.metrics.k8s.io',
]);

export type Snapshot = ReadonlyMap<string, { readonly generation: number | undefined; readonly digest: string; readonly content: unknown }>;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** What "the object's spec" means for a kind: spec, or its top-level content without metadata and status. */
export function comparable(object: Record<string, unknown>): unknown {
  if (object['spec'] !== undefined) return canonical(object['spec']);
  const { metadata: _metadata, status: _status, apiVersion: _apiVersion, kind: _kind, ...rest } = object;
  return canonical(rest);
}

/**
 * The RoleBinding that opts a namespace in for kubemend (scripts/cluster/kubemend-identity.sh) is an
 * operator's set-up step, made before kubemend acts: not a change kubemend made.
 */
function isOptIn(object: Record<string, unknown>): boolean {
  const metadata = (object['metadata'] ?? {}) as { name?: string };
  return object['kind'] === 'RoleBinding' && metadata.name === 'kubemend';
}

export function snapshotOf(objects: ReadonlyArray<Record<string, unknown>>): Snapshot {
  const out = new Map<string, { generation: number | undefined; digest: string; content: unknown }>();
  for (const object of objects) {
    if (isOptIn(object)) continue;
    const metadata = (object['metadata'] ?? {}) as { name?: string; namespace?: string; generation?: number };
    const key = `${String(object['kind'])}/${metadata.namespace ?? ''}/${metadata.name ?? ''}`;
    const content = comparable(object);
    out.set(key, {
      generation: metadata.generation,
      content,
      digest: createHash('sha256').update(JSON.stringify(content)).digest('hex'),
    });
  }
  return out;
}

/** Differences, one line each: created, deleted, generation or spec changed. Empty when nothing changed. */
export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const changes: string[] = [];
  for (const [key, was] of before) {
    const now = after.get(key);
    if (!now) changes.push(`deleted ${key}`);
    else if (now.generation !== was.generation) changes.push(`generation of ${key} ${was.generation} → ${now.generation}`);
    else if (now.digest !== was.digest) changes.push(`spec of ${key} changed`);
  }
  for (const key of after.keys()) if (!before.has(key)) changes.push(`created ${key}`);
  return changes;
}
