/** Comparisons of a live object with a snapshot, as the engine and crash reconciliation need them. */
import type { KubeObject } from '../cluster/gateway.js';
import { canonicalJson } from '../domain/index.js';

function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function sameLabelsAndAnnotations(current: KubeObject, snapshot: KubeObject): boolean {
  return (
    sameJson(current.metadata?.labels ?? {}, snapshot.metadata?.labels ?? {}) &&
    sameJson(current.metadata?.annotations ?? {}, snapshot.metadata?.annotations ?? {})
  );
}

/** Same spec (generation), labels and annotations: only status or bookkeeping moved on. */
export function sameDesiredState(current: KubeObject, snapshot: KubeObject): boolean {
  return (
    current.metadata?.generation === snapshot.metadata?.generation &&
    sameLabelsAndAnnotations(current, snapshot)
  );
}

/** Same spec, data, labels and annotations as the snapshot. */
export function matchesSnapshot(current: KubeObject, snapshot: KubeObject): boolean {
  return (
    sameJson(current.spec ?? null, snapshot.spec ?? null) &&
    sameJson(current.data ?? null, snapshot.data ?? null) &&
    sameLabelsAndAnnotations(current, snapshot)
  );
}

/** Same spec as the snapshot (what a restore is checked against). */
export function sameSpec(current: KubeObject | undefined, snapshot: KubeObject): boolean {
  return sameJson(current?.spec ?? null, snapshot.spec ?? null);
}
