/**
 * Objects other than pods and events, and the metadata every object shares (owner references,
 * status conditions), normalised; objects deduplicated by kind, namespace and name.
 */
import {
  asArray,
  asBoolean,
  asObject,
  asString,
  asStringMap,
  at,
  type EvidenceOrigin,
  type JsonObject,
} from '../domain/index.js';
import type { Condition, KubernetesObject, OwnerReference } from './model.js';

export function normalizeConditions(value: unknown): Condition[] {
  const out: Condition[] = [];
  for (const entry of asArray(value)) {
    const condition = asObject(entry);
    const type = asString(condition?.type);
    if (!condition || !type) continue;
    out.push({
      type,
      status: asString(condition.status) ?? 'Unknown',
      reason: asString(condition.reason),
      message: asString(condition.message),
      lastTransitionTime: asString(condition.lastTransitionTime),
    });
  }
  return out;
}

function normalizeOwners(value: unknown): OwnerReference[] {
  const out: OwnerReference[] = [];
  for (const entry of asArray(value)) {
    const owner = asObject(entry);
    const kind = asString(owner?.kind);
    const name = asString(owner?.name);
    if (!owner || !kind || !name) continue;
    out.push({
      apiVersion: asString(owner.apiVersion),
      kind,
      name,
      uid: asString(owner.uid),
      controller: asBoolean(owner.controller),
    });
  }
  return out;
}

/** What every object's metadata says: name, namespace, labels, annotations and owners. */
export function metadataView(
  metadata: JsonObject,
): Pick<KubernetesObject, 'name' | 'namespace' | 'labels' | 'annotations' | 'ownerReferences'> {
  return {
    name: asString(metadata.name),
    namespace: asString(metadata.namespace),
    labels: asStringMap(metadata.labels),
    annotations: asStringMap(metadata.annotations),
    ownerReferences: normalizeOwners(metadata.ownerReferences),
  };
}

export function normalizeObject(raw: JsonObject, origin: EvidenceOrigin): KubernetesObject {
  const metadata = asObject(raw.metadata) ?? {};
  return {
    apiVersion: asString(raw.apiVersion),
    kind: asString(raw.kind) ?? 'Unknown',
    ...metadataView(metadata),
    conditions: normalizeConditions(at(raw, 'status', 'conditions')),
    raw,
    origin,
  };
}

export function dedupeObjects(objects: readonly KubernetesObject[]): KubernetesObject[] {
  const seen = new Set<string>();
  return objects.filter((object) => {
    if (!object.name) return true;
    const key = `${object.kind}/${object.namespace ?? ''}/${object.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
