import { z } from 'zod';
import { objectLabel } from '../../../domain/index.js';
import type { KubeObject } from '../../../cluster/gateway.js';
import {
  CLUSTER_READABLE,
  READABLE_KINDS,
  ToolRefusal,
  defineTool,
  getOrRefuse,
  metadataOf,
  namespaceOf,
  objectName,
} from './tool.js';

const GetObjectInput = z.object({
  kind: z.enum(READABLE_KINDS),
  name: objectName,
  namespace: z
    .string()
    .max(63)
    .optional()
    .describe("Optional; reads are confined to the incident's namespace"),
});

/** A Secret without its values: type and key names only. */
function secretSummary(object: KubeObject): Record<string, unknown> {
  const data = (object.data ?? {}) as Record<string, unknown>;
  const stringData = (object.stringData ?? {}) as Record<string, unknown>;
  const metadata = metadataOf(object);
  return {
    kind: 'Secret',
    metadata: { name: metadata.name, namespace: metadata.namespace, labels: metadata.labels },
    type: object.type,
    keys: [...new Set([...Object.keys(data), ...Object.keys(stringData)])],
    note: 'values are never read by kubemend',
  };
}

export const getObject = defineTool(
  'get_object',
  "Read one Kubernetes object (spec and status). Namespaced kinds are read from the incident's namespace. Secrets show key names only.",
  GetObjectInput,
  async (input, context) => {
    const clusterScoped = CLUSTER_READABLE.has(input.kind);
    const namespace = clusterScoped ? undefined : namespaceOf(context, input.namespace);
    if (input.kind === 'Namespace' && input.name !== context.namespace)
      throw new ToolRefusal(`only the incident's namespace ${String(context.namespace)} can be read`);
    const object = await getOrRefuse(context, input.kind, input.name, namespace);
    const value = input.kind === 'Secret' ? secretSummary(object) : object;
    return { value, kind: 'status', object: objectLabel({ kind: input.kind, namespace, name: input.name }) };
  },
);
