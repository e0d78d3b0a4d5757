/** Kubernetes kinds kubemend knows by name: workloads, API versions, cluster-scoped kinds. */
export const WORKLOAD_KINDS = [
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'ReplicaSet',
] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export const API_VERSIONS: Readonly<Record<string, string>> = {
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  ReplicaSet: 'apps/v1',
  ControllerRevision: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  Pod: 'v1',
  Service: 'v1',
  Endpoints: 'v1',
  Node: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  PersistentVolumeClaim: 'v1',
  PersistentVolume: 'v1',
  ResourceQuota: 'v1',
  LimitRange: 'v1',
  ServiceAccount: 'v1',
  Namespace: 'v1',
  StorageClass: 'storage.k8s.io/v1',
  Role: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
  EndpointSlice: 'discovery.k8s.io/v1',
};

/** Kinds that live outside namespaces. */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'Node',
  'Namespace',
  'PersistentVolume',
  'StorageClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'APIService',
  'VolumeAttachment',
  'CSIDriver',
  'IngressClass',
  'RuntimeClass',
]);

export function apiVersionOf(kind: string, fallback = 'v1'): string {
  return API_VERSIONS[kind] ?? fallback;
}

/** The kinds a person can address directly (`kubemend analyze TYPE/NAME`, the words resolver). */
export const TARGET_KINDS = [
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'Pod',
  'Service',
  'PersistentVolumeClaim',
  'HorizontalPodAutoscaler',
  'Node',
] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** kubectl's short name of each addressable kind (`deploy/checkout`). */
export const KIND_SHORT_NAMES: Readonly<Record<TargetKind, string>> = {
  Deployment: 'deploy',
  StatefulSet: 'sts',
  DaemonSet: 'ds',
  Job: 'job',
  CronJob: 'cj',
  Pod: 'po',
  Service: 'svc',
  PersistentVolumeClaim: 'pvc',
  HorizontalPodAutoscaler: 'hpa',
  Node: 'no',
};

/** Every spelling kubectl accepts for these kinds: singular, plural, short name (lower case). */
const KIND_SPELLINGS: Readonly<Record<string, TargetKind>> = Object.fromEntries(
  TARGET_KINDS.flatMap((kind) => {
    const lower = kind.toLowerCase();
    const plural = lower.endsWith('s') ? `${lower}es` : `${lower}s`;
    return [lower, plural, KIND_SHORT_NAMES[kind]].map((spelling) => [spelling, kind] as const);
  }),
);

/** `deploy` / `deployments` / `Deployment` → `Deployment`; undefined for a kind kubemend cannot address. */
export function targetKindOf(spelling: string): TargetKind | undefined {
  return KIND_SPELLINGS[spelling.toLowerCase()];
}
