/**
 * What every investigation tool shares: the read-only view of the cluster, the context a tool runs
 * in, its output, the refusal it throws, input validation, namespace confinement and the small
 * readers of Kubernetes objects the tools summarise with.
 */
import { z } from 'zod';
import { type EvidenceKind, objectLabel, asArray, at } from '../../../domain/index.js';
import type { ClusterGateway, KubeObject } from '../../../cluster/gateway.js';
import type { ChatToolSpec } from '../model.js';

/** The only part of the gateway a tool can reach. */
export type ReadOnlyCluster = Pick<ClusterGateway, 'get' | 'list' | 'logs'>;

export function readOnlyView(cluster: ClusterGateway): ReadOnlyCluster {
  return {
    get: (key) => cluster.get(key),
    list: (kind, namespace, options) => cluster.list(kind, namespace, options),
    logs: (namespace, pod, container, options) => cluster.logs(namespace, pod, container, options),
  };
}

export interface ToolContext {
  readonly cluster: ReadOnlyCluster;
  /** The incident's namespace (real name); namespaced reads go nowhere else. */
  readonly namespace: string | undefined;
}

export interface ToolOutput {
  readonly value: unknown;
  readonly kind: EvidenceKind;
  /** kind/namespace/name the output describes. */
  readonly object?: string;
}

export interface InvestigationTool extends ChatToolSpec {
  run(input: unknown, context: ToolContext): Promise<ToolOutput>;
}

/** A tool refused the request; the message goes back to the model as the tool's error. */
export class ToolRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolRefusal';
  }
}

/** A tool whose input is validated against its schema; invalid input is refused, naming the field. */
export function defineTool<S extends z.ZodType>(
  name: string,
  description: string,
  inputSchema: S,
  run: (input: z.infer<S>, context: ToolContext) => Promise<ToolOutput>,
): InvestigationTool {
  return {
    name,
    description,
    inputSchema,
    run: async (input, context) => {
      const parsed = inputSchema.safeParse(input);
      if (!parsed.success)
        throw new ToolRefusal(
          `invalid input: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('; ')}`,
        );
      return run(parsed.data, context);
    },
  };
}

export const READABLE_KINDS = [
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'CronJob',
  'Service',
  'Endpoints',
  'EndpointSlice',
  'ConfigMap',
  'Secret',
  'PersistentVolumeClaim',
  'HorizontalPodAutoscaler',
  'ResourceQuota',
  'LimitRange',
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'Node',
  'PersistentVolume',
  'StorageClass',
  'Namespace',
] as const;
export const CLUSTER_READABLE: ReadonlySet<string> = new Set([
  'Node',
  'PersistentVolume',
  'StorageClass',
  'Namespace',
]);

export const objectName = z.string().min(1).max(253);
export const ObjectInput = z.object({ kind: z.enum(READABLE_KINDS), name: objectName });
export const NameInput = z.object({ name: objectName });

/** The namespace a namespaced read may use: the incident's, whatever the model asked for. */
export function namespaceOf(context: ToolContext, requested?: string): string {
  if (context.namespace === undefined)
    throw new ToolRefusal("the incident's namespace is unknown; only cluster-scoped objects can be read");
  if (requested !== undefined && requested !== '' && requested !== context.namespace)
    throw new ToolRefusal(`reads are confined to the incident's namespace ${context.namespace}`);
  return context.namespace;
}

export function metadataOf(object: KubeObject): NonNullable<KubeObject['metadata']> {
  return object.metadata ?? {};
}

export async function getOrRefuse(
  context: ToolContext,
  kind: string,
  name: string,
  namespace?: string,
): Promise<KubeObject> {
  const found = await context.cluster.get({ kind, name, ...(namespace ? { namespace } : {}) });
  if (!found) throw new ToolRefusal(`${objectLabel({ kind, namespace, name })} was not found`);
  return found;
}

export interface ObjectToolContext extends ToolContext {
  /** Where the object was read: the incident's namespace, or none for a cluster-scoped kind. */
  readonly objectNamespace: string | undefined;
}

/**
 * A tool that reads one named object of a fixed kind (from the incident's namespace unless the kind
 * is cluster-scoped) and summarises it; a missing object is refused, naming it.
 */
export function defineObjectTool(
  name: string,
  description: string,
  kind: (typeof READABLE_KINDS)[number],
  evidence: EvidenceKind,
  summarize: (
    object: KubeObject,
    input: { readonly name: string },
    context: ObjectToolContext,
  ) => Promise<unknown>,
): InvestigationTool {
  return defineTool(name, description, NameInput, async (input, context) => {
    const namespace = CLUSTER_READABLE.has(kind) ? undefined : namespaceOf(context);
    const object = await getOrRefuse(context, kind, input.name, namespace);
    return {
      value: await summarize(object, input, { ...context, objectNamespace: namespace }),
      kind: evidence,
      object: objectLabel({ kind, namespace, name: input.name }),
    };
  });
}

/** One line per pod: phase, readiness, restarts, waiting/terminated reasons, node, owner. */
export function podLine(pod: KubeObject): Record<string, unknown> {
  const statuses = asArray(at(pod, 'status', 'containerStatuses'));
  const ready = statuses.filter((status) => at(status, 'ready') === true).length;
  const restarts = statuses.reduce<number>(
    (sum, status) => sum + (Number(at(status, 'restartCount')) || 0),
    0,
  );
  const reasons = statuses
    .map(
      (status) =>
        at(status, 'state', 'waiting', 'reason') ??
        at(status, 'state', 'terminated', 'reason') ??
        at(status, 'lastState', 'terminated', 'reason'),
    )
    .filter((reason): reason is string => typeof reason === 'string');
  const owner = metadataOf(pod).ownerReferences?.[0];
  return {
    name: metadataOf(pod).name,
    phase: at(pod, 'status', 'phase'),
    ready: `${ready}/${statuses.length}`,
    restarts,
    ...(reasons.length > 0 ? { reasons: [...new Set(reasons)] } : {}),
    node: at(pod, 'spec', 'nodeName'),
    ...(owner ? { owner: `${String(owner.kind)}/${String(owner.name)}` } : {}),
  };
}
