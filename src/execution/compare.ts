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

type Path = ReadonlyArray<string | number>;

function valueAt(value: unknown, path: Path): unknown {
  let node = value;
  for (const step of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[step];
  }
  return node;
}

/** Paths of the leaves where `a` and `b` differ (objects by key, arrays by index). */
export function changedPaths(a: unknown, b: unknown, prefix: Path = []): Path[] {
  if (sameJson(a, b)) return [];
  const bothArrays = Array.isArray(a) && Array.isArray(b);
  const bothObjects =
    a !== null &&
    b !== null &&
    typeof a === 'object' &&
    typeof b === 'object' &&
    !Array.isArray(a) &&
    !Array.isArray(b);
  if (bothArrays && a.length === b.length)
    return a.flatMap((item, i) => changedPaths(item, b[i], [...prefix, i]));
  if (!bothObjects) return [prefix];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((key) =>
    changedPaths((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], [...prefix, key]),
  );
}

/**
 * Whether a change kubemend applied (snapshot → applied) is still in `current`: undefined when it
 * is, else which field moved away from kubemend's value, and whether back to the snapshot's.
 */
export function revertedChange(
  snapshot: KubeObject,
  applied: KubeObject,
  current: KubeObject | undefined,
): string | undefined {
  if (!current) return 'the object was deleted';
  for (const path of changedPaths(snapshot.spec, applied.spec, ['spec'])) {
    const now = valueAt(current, path);
    if (sameJson(now ?? null, valueAt(applied, path) ?? null)) continue;
    const back = sameJson(now ?? null, valueAt(snapshot, path) ?? null);
    return `${path.join('.')} is ${back ? 'back to its earlier value' : 'changed to'} ${JSON.stringify(now ?? null)}`;
  }
  return undefined;
}
