import { z } from 'zod';
import { objectLabel, asArray, at } from '../../../domain/index.js';
import type { KubeObject } from '../../../cluster/gateway.js';
import { defineTool, getOrRefuse, metadataOf, namespaceOf, objectName } from './tool.js';

const RevisionInput = z.object({
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']),
  name: objectName,
});

function imagesOf(template: unknown): string[] {
  return asArray(at(template, 'spec', 'containers')).map(
    (container) => `${String(at(container, 'name'))}=${String(at(container, 'image'))}`,
  );
}

function ownedBy(object: KubeObject, kind: string, ownerName: string): boolean {
  return (metadataOf(object).ownerReferences ?? []).some(
    (owner) => owner.kind === kind && owner.name === ownerName,
  );
}

export const revisionHistory = defineTool(
  'revision_history',
  "A workload's revisions, newest first: revision number, images, replicas, change cause.",
  RevisionInput,
  async (input, context) => {
    const namespace = namespaceOf(context);
    const workload = await getOrRefuse(context, input.kind, input.name, namespace);
    let revisions: Array<Record<string, unknown>>;
    if (input.kind === 'Deployment') {
      const sets = await context.cluster.list('ReplicaSet', namespace, { limit: 100 });
      revisions = sets
        .filter((set) => ownedBy(set, 'Deployment', input.name))
        .map((set) => ({
          revision: Number(metadataOf(set).annotations?.['deployment.kubernetes.io/revision'] ?? 0),
          replicaSet: metadataOf(set).name,
          images: imagesOf(at(set, 'spec', 'template')),
          replicas: at(set, 'status', 'replicas') ?? 0,
          readyReplicas: at(set, 'status', 'readyReplicas') ?? 0,
          created: metadataOf(set).creationTimestamp,
          changeCause: metadataOf(set).annotations?.['kubernetes.io/change-cause'],
        }));
    } else {
      const history = await context.cluster.list('ControllerRevision', namespace, { limit: 100 });
      revisions = history
        .filter((revision) => ownedBy(revision, input.kind, input.name))
        .map((revision) => ({
          revision: Number(revision.revision ?? 0),
          name: metadataOf(revision).name,
          images: imagesOf(at(revision, 'data', 'spec', 'template')),
          created: metadataOf(revision).creationTimestamp,
        }));
    }
    revisions.sort((a, b) => Number(b.revision) - Number(a.revision));
    return {
      value: {
        current: {
          generation: metadataOf(workload).generation,
          revision: metadataOf(workload).annotations?.['deployment.kubernetes.io/revision'],
          images: imagesOf(at(workload, 'spec', 'template')),
        },
        revisions: revisions.slice(0, 10),
      },
      kind: 'spec',
      object: objectLabel({ kind: input.kind, namespace, name: input.name }),
    };
  },
);
