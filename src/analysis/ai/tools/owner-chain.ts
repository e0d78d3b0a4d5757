import { objectLabel } from '../../../domain/index.js';
import {
  CLUSTER_READABLE,
  ObjectInput,
  READABLE_KINDS,
  defineTool,
  metadataOf,
  namespaceOf,
} from './tool.js';

export const ownerChain = defineTool(
  'owner_chain',
  'Follow controller ownerReferences from an object up to its top-level owner (Pod → ReplicaSet → Deployment, Job → CronJob).',
  ObjectInput,
  async (input, context) => {
    const namespace = CLUSTER_READABLE.has(input.kind) ? undefined : namespaceOf(context);
    const chain: Array<Record<string, unknown>> = [];
    let kind: string = input.kind;
    let current = input.name;
    for (let depth = 0; depth < 5; depth++) {
      const object = await context.cluster.get({
        kind,
        name: current,
        ...(namespace ? { namespace } : {}),
      });
      if (!object) {
        chain.push({ kind, name: current, found: false });
        break;
      }
      const owner =
        (metadataOf(object).ownerReferences ?? []).find((reference) => reference.controller === true) ??
        metadataOf(object).ownerReferences?.[0];
      chain.push({ kind, name: current, ...(owner ? {} : { topLevel: true }) });
      if (!owner || typeof owner.kind !== 'string' || typeof owner.name !== 'string') break;
      if (!(READABLE_KINDS as readonly string[]).includes(owner.kind)) {
        chain.push({ kind: owner.kind, name: owner.name, note: 'kind not readable by kubemend' });
        break;
      }
      kind = owner.kind;
      current = owner.name;
    }
    return {
      value: { chain },
      kind: 'spec',
      object: objectLabel({ kind: input.kind, namespace, name: input.name }),
    };
  },
);
