/**
 * How kubemend names one Kubernetes object in text: `Kind/namespace/name`, with the namespace left
 * out for cluster-scoped objects (`Node/worker-1`). One helper for every layer — evidence, tool
 * outputs, execution locks and results, rate-limit keys, messages — so the same object always reads
 * the same.
 */

/** The identity parts of an object; `ObjectKey`, `ActionTarget` and event subjects all fit. */
export interface ObjectReference {
  readonly kind?: string | undefined;
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
}

/** `Kind/namespace/name`; `object` stands in for an absent kind; empty parts are left out. */
export function objectLabel(reference: ObjectReference): string {
  return [reference.kind ?? 'object', reference.namespace, reference.name].filter(Boolean).join('/');
}
