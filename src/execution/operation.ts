/**
 * The typed operation of an action, against the gateway: what the engine applies (and dry-runs),
 * and what a preview dry-runs. One switch, so a preview shows exactly what an apply would send.
 */
import type { ClusterGateway, KubeObject, ObjectKey, WriteOptions } from '../cluster/gateway.js';
import { KubemendError, type RemediationAction } from '../domain/index.js';

/**
 * Performs `action` on `key` with `options` (dry-run or real, the resourceVersion precondition).
 * Returns the object as the API server answered: the changed object, the created one, a Scale for
 * `scale`, and `current` for a delete (which answers nothing useful).
 */
export async function performOperation(
  gateway: ClusterGateway,
  action: RemediationAction,
  key: ObjectKey,
  options: WriteOptions,
  current?: KubeObject,
): Promise<KubeObject> {
  switch (action.type) {
    case 'patch':
      return gateway.patch(key, action.params.patchType, action.params.patch, options);
    case 'scale':
      return gateway.scale(key, action.params.replicas, options);
    case 'restart':
      return gateway.restart(key, options);
    case 'rollback':
      return (await gateway.rollback(key, action.params.toRevision, options)).object;
    case 'cordon':
    case 'uncordon':
      return gateway.cordon(key.name, action.type === 'cordon', options);
    case 'create':
      return gateway.create(action.params.manifest as KubeObject, { dryRun: options.dryRun });
    case 'delete':
      await gateway.delete(key, options);
      return current ?? {};
    case 'manual':
      throw new KubemendError('internal', 'manual actions are not executed');
  }
}
