/**
 * What an action would do, without doing it: the target as it is, and as the API server's
 * server-side dry-run says it would be (every admission and validation step, nothing persisted).
 * The same typed operation the engine applies (`operation.ts`), with the object's
 * resourceVersion as precondition. Nothing is recorded: a preview is a read.
 */
import type { ClusterGateway, KubeObject, ObjectKey } from '../cluster/gateway.js';
import { isApiError } from '../cluster/errors.js';
import type { RemediationAction } from '../domain/index.js';
import { describe } from './describe.js';
import { performOperation } from './operation.js';
import { snapshotView } from './results.js';
import { keyOf } from './run.js';

/** Conflicts (the object moved on between read and dry-run) re-read before giving up. */
const MAX_CONFLICTS = 4;

/** An object as a diff shows it: identity, labels, annotations, spec and data, no bookkeeping. */
export type ObjectView = Record<string, unknown>;

export type DryRunPreview =
  | {
      readonly kind: 'dry-run';
      /** The target now; absent for a create. */
      readonly before?: ObjectView;
      /** The target as the dry-run answered; absent for a delete. */
      readonly after?: ObjectView;
    }
  | { readonly kind: 'rejected'; readonly before?: ObjectView; readonly reason: string };

/** Identity, labels, annotations, spec and data, without resourceVersion and generation. */
export function objectView(object: KubeObject): ObjectView {
  const view = snapshotView(object) as { metadata?: Record<string, unknown> } & ObjectView;
  const { resourceVersion: _version, generation: _generation, ...metadata } = view.metadata ?? {};
  return { ...view, metadata: dropUndefined(metadata) };
}

/** The object an action works on (a create's manifest names it). */
export function previewKey(action: RemediationAction): ObjectKey {
  if (action.type === 'create') {
    const manifest = action.params.manifest as KubeObject;
    return {
      kind: String(manifest.kind ?? action.target.kind),
      namespace: manifest.metadata?.namespace ?? action.target.namespace,
      name: String(manifest.metadata?.name ?? action.target.name),
    };
  }
  return keyOf(action);
}

/** Reads the target as it is now (undefined when it does not exist). */
export function readTarget(
  gateway: ClusterGateway,
  action: RemediationAction,
): Promise<KubeObject | undefined> {
  return gateway.get(previewKey(action));
}

/**
 * Dry-runs `action` against `read` (from `readTarget`) with its resourceVersion, re-reading when
 * the object moved on meanwhile (409). A refusal by the API server (invalid, forbidden, a conflict
 * that persists, a missing object) is a `rejected` preview; a cluster that cannot be reached throws.
 */
export async function dryRunPreview(
  gateway: ClusterGateway,
  action: RemediationAction,
  read: KubeObject | undefined,
): Promise<DryRunPreview> {
  let current = read;
  for (let attempt = 0; ; attempt++) {
    const before = current ? objectView(current) : undefined;
    if (action.type === 'create' && current)
      return {
        kind: 'rejected',
        before,
        reason: `${previewKey(action).name} already exists; kubemend does not overwrite it`,
      };
    if (action.type !== 'create' && !current)
      return { kind: 'rejected', reason: 'the target does not exist' };
    let answer: KubeObject;
    try {
      answer = await performOperation(
        gateway,
        action,
        keyOf(action),
        { dryRun: true, resourceVersion: current?.metadata?.resourceVersion },
        current,
      );
    } catch (error) {
      // A controller moved the object on (status, most often) between the read and the dry-run:
      // read it again and preview against what is there now, as the engine re-reads on a 409.
      if (isApiError(error, 'conflict') && attempt < MAX_CONFLICTS) {
        current = await readTarget(gateway, action);
        continue;
      }
      if (isApiError(error) && error.kind !== 'unreachable' && error.kind !== 'retryable')
        return { kind: 'rejected', ...(before ? { before } : {}), reason: describe(error) };
      throw error;
    }
    if (action.type === 'delete') return { kind: 'dry-run', ...(before ? { before } : {}) };
    const after =
      action.type === 'scale' && current
        ? // The scale subresource answers a Scale: the workload with the new replica count.
          { ...current, spec: { ...(current.spec as object), replicas: scaleReplicas(answer) } }
        : answer;
    return { kind: 'dry-run', ...(before ? { before } : {}), after: objectView(after) };
  }
}

function scaleReplicas(scale: KubeObject): unknown {
  return (scale.spec as { replicas?: unknown } | undefined)?.replicas;
}

function dropUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
