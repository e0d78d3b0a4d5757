/**
 * Volumes. A claim that does not bind: advice only (storage classes are cluster-scoped and a
 * claim's class cannot change). A ReadWriteOnce volume caught between two pods of a rolling update
 * on healthy nodes: switch the Deployment to Recreate. Other storage repairs are a person's.
 */
import {
  advise,
  builderOf,
  describe,
  manual,
  patchDraft,
  rolloutVerification,
  type Strategy,
} from './shared.js';
import { asString, at } from '../../domain/index.js';

export const volumePending = builderOf([], ({ details: d, facts, finding }) => {
  const classes = facts
    .objectsOfKind('StorageClass')
    .map((sc) => sc.name)
    .filter(Boolean);
  const claim = {
    kind: 'PersistentVolumeClaim',
    apiVersion: 'v1',
    name: d.claimName ?? 'unknown',
    namespace: facts.namespace,
  };
  return manual(claim, facts, {
    description: `Make PersistentVolumeClaim ${d.claimName ?? ''} bindable`,
    instructions: `${finding.rootCause} ${d.storageClass ? `StorageClass ${d.storageClass} must exist (kubectl get storageclass${classes.length ? `; present: ${classes.join(', ')}` : ''}). ` : ''}A PVC's storageClassName cannot be changed: if it is wrong and the claim is unbound and empty, re-create it with the right class. Check that the provisioner is running.`,
    rationale: 'Storage classes are cluster-scoped and re-creating a claim is destructive: a person decides.',
    command: `kubectl describe pvc ${d.claimName ?? ''} -n ${facts.namespace ?? 'default'}`,
  });
});

/** Multi-Attach during a rolling update, with every node Ready: Recreate releases the volume first. */
const recreateStrategy: Strategy = ({ details: d, workload, facts, verifyTimeout }) => {
  if (d.resource !== 'multi-attach' || workload?.kind !== 'Deployment') return undefined;
  const deployment = facts.findObject('Deployment', workload.name);
  const strategy = asString(at(deployment?.raw, 'spec', 'strategy', 'type'));
  const nodeDown = facts
    .objectsOfKind('Node')
    .some((node) => node.conditions.some((c) => c.type === 'Ready' && c.status !== 'True'));
  if (strategy === 'Recreate' || nodeDown) return undefined;
  return patchDraft(
    workload,
    { spec: { strategy: { type: 'Recreate', rollingUpdate: null } } },
    {
      description: `Switch ${describe(workload)} to the Recreate strategy`,
      rationale:
        'A ReadWriteOnce volume can attach to one node at a time; a rolling update starts the new pod before the old one releases it. Recreate stops the old pod first.',
      verification: rolloutVerification(workload, verifyTimeout, 'the volume attaches and the pod starts'),
    },
  );
};

export const volumeMountFailure = builderOf([recreateStrategy], (context) =>
  advise(context, {
    description: 'Repair the volume attachment',
    instructions: `${context.finding.rootCause} Check the PersistentVolume, the CSI driver logs and VolumeAttachments (kubectl get volumeattachments). If the old node is confirmed down, a person may remove the stale attachment. Never force-delete pods while the old node may still write.`,
    rationale: 'Storage repairs risk data; a person must confirm the state of the node and volume.',
    command: 'kubectl get volumeattachments',
  }),
);
