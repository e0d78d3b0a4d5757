/**
 * Read-only investigation tools for the model, over the ClusterGateway's read methods only (get,
 * list, logs): never a shell, never a write. Namespaced reads are confined to the incident's
 * namespace; Secret values are never read into an answer (only key names); every output is
 * summarised, then bounded, scrubbed and framed as untrusted data by the loop.
 */
import { z } from 'zod';
import type { EvidenceKind } from '../../domain/index.js';
import type { ClusterGateway, KubeObject } from '../../cluster/gateway.js';
import { sanitizeLogLine } from '../../context/log-summary.js';
import type { ChatToolSpec } from './model.js';

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
const CLUSTER_READABLE = new Set(['Node', 'PersistentVolume', 'StorageClass', 'Namespace']);

const name = z.string().min(1).max(253);
const namespaceField = z
  .string()
  .max(63)
  .optional()
  .describe("Optional; reads are confined to the incident's namespace");

function namespaceOf(context: ToolContext, requested?: string): string {
  if (context.namespace === undefined)
    throw new ToolRefusal("the incident's namespace is unknown; only cluster-scoped objects can be read");
  if (requested !== undefined && requested !== '' && requested !== context.namespace)
    throw new ToolRefusal(`reads are confined to the incident's namespace ${context.namespace}`);
  return context.namespace;
}

const label = (kind: string, namespace: string | undefined, objectName: string): string =>
  [kind, namespace, objectName].filter(Boolean).join('/');

function metadataOf(object: KubeObject): NonNullable<KubeObject['metadata']> {
  return object.metadata ?? {};
}

function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!current || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function conditionsOf(object: unknown): unknown {
  const conditions = at(object, 'status', 'conditions');
  if (!Array.isArray(conditions)) return undefined;
  return conditions.map((condition) => ({
    type: at(condition, 'type'),
    status: at(condition, 'status'),
    reason: at(condition, 'reason'),
    message: at(condition, 'message'),
  }));
}

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

async function getOrRefuse(
  context: ToolContext,
  kind: string,
  objectName: string,
  namespace?: string,
): Promise<KubeObject> {
  const found = await context.cluster.get({ kind, name: objectName, ...(namespace ? { namespace } : {}) });
  if (!found) throw new ToolRefusal(`${label(kind, namespace, objectName)} was not found`);
  return found;
}

function podLine(pod: KubeObject): Record<string, unknown> {
  const statuses = (at(pod, 'status', 'containerStatuses') as unknown[] | undefined) ?? [];
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

function imagesOf(template: unknown): string[] {
  const containers = (at(template, 'spec', 'containers') as unknown[] | undefined) ?? [];
  return containers.map((container) => `${String(at(container, 'name'))}=${String(at(container, 'image'))}`);
}

function ownedBy(object: KubeObject, kind: string, ownerName: string): boolean {
  return (metadataOf(object).ownerReferences ?? []).some(
    (owner) => owner.kind === kind && owner.name === ownerName,
  );
}

function selectorString(selector: unknown): string | undefined {
  if (!selector || typeof selector !== 'object') return undefined;
  const entries = Object.entries(selector as Record<string, unknown>).filter(
    ([, value]) => typeof value === 'string',
  );
  if (entries.length === 0) return undefined;
  return entries.map(([key, value]) => `${key}=${String(value)}`).join(',');
}

// ---------------------------------------------------------------------------------------------

const GetObjectInput = z.object({ kind: z.enum(READABLE_KINDS), name, namespace: namespaceField });
const ObjectInput = z.object({ kind: z.enum(READABLE_KINDS), name });
const NameInput = z.object({ name });
const PodLogsInput = z.object({
  pod: name,
  container: z.string().min(1).max(253).optional(),
  previous: z.boolean().optional().describe('Logs of the previous (crashed) container instance'),
  tailLines: z.number().int().min(1).max(500).optional().describe('Default 200'),
  grep: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('Case-insensitive substring; only matching lines are returned'),
});
const ListPodsInput = z.object({ labelSelector: z.string().max(200).optional() });
const RevisionInput = z.object({ kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']), name });

function tool<S extends z.ZodType>(
  toolName: string,
  description: string,
  inputSchema: S,
  run: (input: z.infer<S>, context: ToolContext) => Promise<ToolOutput>,
): InvestigationTool {
  return {
    name: toolName,
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

export const INVESTIGATION_TOOLS: readonly InvestigationTool[] = [
  tool(
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
      return { value, kind: 'status', object: label(input.kind, namespace, input.name) };
    },
  ),
  tool(
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
      return { value: { chain }, kind: 'spec', object: label(input.kind, namespace, input.name) };
    },
  ),
  tool('events_for', 'Events recorded for one object, newest first.', ObjectInput, async (input, context) => {
    const namespace = input.kind === 'Node' ? 'default' : namespaceOf(context);
    const events = await context.cluster.list('Event', namespace, {
      fieldSelector: `involvedObject.kind=${input.kind},involvedObject.name=${input.name}`,
      limit: 100,
    });
    const value = events
      .map((event) => ({
        type: event.type,
        reason: event.reason,
        message: event.message,
        count: event.count,
        lastSeen: event.lastTimestamp ?? event.eventTime ?? at(event, 'metadata', 'creationTimestamp'),
      }))
      .sort((a, b) => String(b.lastSeen ?? '').localeCompare(String(a.lastSeen ?? '')))
      .slice(0, 30);
    return {
      value: { events: value },
      kind: 'event',
      object: label(input.kind, input.kind === 'Node' ? undefined : namespace, input.name),
    };
  }),
  tool(
    'pod_logs',
    "A pod container's log: the last lines (tailLines, default 200), optionally of the previous instance, optionally only lines containing `grep`.",
    PodLogsInput,
    async (input, context) => {
      const namespace = namespaceOf(context);
      let container = input.container;
      if (!container) {
        const pod = await getOrRefuse(context, 'Pod', input.pod, namespace);
        const first = (at(pod, 'spec', 'containers') as unknown[] | undefined)?.[0];
        container = typeof at(first, 'name') === 'string' ? (at(first, 'name') as string) : undefined;
        if (!container) throw new ToolRefusal(`pod ${input.pod} has no containers`);
      }
      const tailLines = input.tailLines ?? 200;
      const text = await context.cluster.logs(namespace, input.pod, container, {
        previous: input.previous === true,
        // With a filter, read more so that the matching lines are found.
        tailLines: input.grep ? Math.min(5_000, tailLines * 10) : tailLines,
        limitBytes: 1_000_000,
      });
      let lines = text.split('\n').filter((line) => line !== '');
      if (input.grep) {
        const needle = input.grep.toLowerCase();
        lines = lines.filter((line) => line.toLowerCase().includes(needle));
      }
      lines = lines.slice(-tailLines).map((line) => sanitizeLogLine(line, 1_000));
      return {
        value: { container, previous: input.previous === true, lines },
        kind: 'log',
        object: label('Pod', namespace, input.pod),
      };
    },
  ),
  tool(
    'list_pods',
    "Pods in the incident's namespace with phase, readiness, restarts and waiting/terminated reasons (optionally by label selector).",
    ListPodsInput,
    async (input, context) => {
      const namespace = namespaceOf(context);
      const pods = await context.cluster.list('Pod', namespace, {
        ...(input.labelSelector ? { labelSelector: input.labelSelector } : {}),
        limit: 50,
      });
      return { value: { pods: pods.slice(0, 30).map(podLine), total: pods.length }, kind: 'status' };
    },
  ),
  tool(
    'node_status',
    'A node: conditions, taints, unschedulable, allocatable and capacity.',
    NameInput,
    async (input, context) => {
      const node = await getOrRefuse(context, 'Node', input.name);
      return {
        value: {
          name: input.name,
          unschedulable: at(node, 'spec', 'unschedulable') ?? false,
          taints: at(node, 'spec', 'taints') ?? [],
          conditions: conditionsOf(node),
          allocatable: at(node, 'status', 'allocatable'),
          capacity: at(node, 'status', 'capacity'),
          kubeletVersion: at(node, 'status', 'nodeInfo', 'kubeletVersion'),
        },
        kind: 'condition',
        object: label('Node', undefined, input.name),
      };
    },
  ),
  tool(
    'pvc_status',
    'A PersistentVolumeClaim with its StorageClass and bound PersistentVolume.',
    NameInput,
    async (input, context) => {
      const namespace = namespaceOf(context);
      const claim = await getOrRefuse(context, 'PersistentVolumeClaim', input.name, namespace);
      const className = at(claim, 'spec', 'storageClassName');
      const storageClass =
        typeof className === 'string'
          ? await context.cluster.get({ kind: 'StorageClass', name: className })
          : undefined;
      const volumeName = at(claim, 'spec', 'volumeName');
      const volume =
        typeof volumeName === 'string' && volumeName
          ? await context.cluster.get({ kind: 'PersistentVolume', name: volumeName })
          : undefined;
      return {
        value: {
          claim: { spec: claim.spec, status: claim.status },
          storageClass: storageClass
            ? {
                name: className,
                provisioner: storageClass.provisioner,
                volumeBindingMode: storageClass.volumeBindingMode,
                allowVolumeExpansion: storageClass.allowVolumeExpansion,
              }
            : typeof className === 'string'
              ? `${className} not found`
              : 'none (default class)',
          volume: volume
            ? {
                name: volumeName,
                phase: at(volume, 'status', 'phase'),
                nodeAffinity: at(volume, 'spec', 'nodeAffinity'),
                claimRef: at(volume, 'spec', 'claimRef', 'name'),
              }
            : null,
        },
        kind: 'status',
        object: label('PersistentVolumeClaim', namespace, input.name),
      };
    },
  ),
  tool(
    'service_endpoints',
    'A Service: selector and ports, its EndpointSlices, and the pods its selector matches.',
    NameInput,
    async (input, context) => {
      const namespace = namespaceOf(context);
      const service = await getOrRefuse(context, 'Service', input.name, namespace);
      const slices = await context.cluster.list('EndpointSlice', namespace, {
        labelSelector: `kubernetes.io/service-name=${input.name}`,
        limit: 20,
      });
      const selector = selectorString(at(service, 'spec', 'selector'));
      const pods = selector
        ? await context.cluster.list('Pod', namespace, { labelSelector: selector, limit: 50 })
        : [];
      return {
        value: {
          service: {
            type: at(service, 'spec', 'type'),
            selector: at(service, 'spec', 'selector') ?? null,
            ports: at(service, 'spec', 'ports'),
          },
          endpointSlices: slices.map((slice) => ({
            name: metadataOf(slice).name,
            endpoints: slice.endpoints,
            ports: slice.ports,
          })),
          matchingPods: selector ? pods.slice(0, 20).map(podLine) : 'the Service has no selector',
        },
        kind: 'status',
        object: label('Service', namespace, input.name),
      };
    },
  ),
  tool(
    'hpa_status',
    'A HorizontalPodAutoscaler: target, min/max replicas, metrics, current status and conditions.',
    NameInput,
    async (input, context) => {
      const namespace = namespaceOf(context);
      const hpa = await getOrRefuse(context, 'HorizontalPodAutoscaler', input.name, namespace);
      return {
        value: { spec: hpa.spec, status: hpa.status },
        kind: 'status',
        object: label('HorizontalPodAutoscaler', namespace, input.name),
      };
    },
  ),
  tool(
    'quotas',
    "ResourceQuotas (hard and used) and LimitRanges of the incident's namespace.",
    z.object({}),
    async (_input, context) => {
      const namespace = namespaceOf(context);
      const [quotas, ranges] = await Promise.all([
        context.cluster.list('ResourceQuota', namespace, { limit: 20 }),
        context.cluster.list('LimitRange', namespace, { limit: 20 }),
      ]);
      return {
        value: {
          resourceQuotas: quotas.map((quota) => ({
            name: metadataOf(quota).name,
            hard: at(quota, 'status', 'hard') ?? at(quota, 'spec', 'hard'),
            used: at(quota, 'status', 'used'),
          })),
          limitRanges: ranges.map((range) => ({
            name: metadataOf(range).name,
            limits: at(range, 'spec', 'limits'),
          })),
        },
        kind: 'status',
      };
    },
  ),
  tool(
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
        object: label(input.kind, namespace, input.name),
      };
    },
  ),
];

export const TOOL_NAMES: readonly string[] = INVESTIGATION_TOOLS.map((entry) => entry.name);
