/**
 * REST paths for the kinds kubemend reads and changes. A fixed table (what kubectl's discovery
 * would return for these built-in kinds) keeps every request one round trip and auditable.
 */
export interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

const R = (group: string, version: string, plural: string, namespaced = true): ResourceInfo => ({
  group,
  version,
  plural,
  namespaced,
});

export const RESOURCES: Readonly<Record<string, ResourceInfo>> = {
  Pod: R('', 'v1', 'pods'),
  Event: R('', 'v1', 'events'),
  ConfigMap: R('', 'v1', 'configmaps'),
  Secret: R('', 'v1', 'secrets'),
  Service: R('', 'v1', 'services'),
  Endpoints: R('', 'v1', 'endpoints'),
  PersistentVolumeClaim: R('', 'v1', 'persistentvolumeclaims'),
  ResourceQuota: R('', 'v1', 'resourcequotas'),
  LimitRange: R('', 'v1', 'limitranges'),
  ServiceAccount: R('', 'v1', 'serviceaccounts'),
  Node: R('', 'v1', 'nodes', false),
  Namespace: R('', 'v1', 'namespaces', false),
  PersistentVolume: R('', 'v1', 'persistentvolumes', false),
  Deployment: R('apps', 'v1', 'deployments'),
  StatefulSet: R('apps', 'v1', 'statefulsets'),
  DaemonSet: R('apps', 'v1', 'daemonsets'),
  ReplicaSet: R('apps', 'v1', 'replicasets'),
  ControllerRevision: R('apps', 'v1', 'controllerrevisions'),
  Job: R('batch', 'v1', 'jobs'),
  CronJob: R('batch', 'v1', 'cronjobs'),
  HorizontalPodAutoscaler: R('autoscaling', 'v2', 'horizontalpodautoscalers'),
  EndpointSlice: R('discovery.k8s.io', 'v1', 'endpointslices'),
  StorageClass: R('storage.k8s.io', 'v1', 'storageclasses', false),
  Role: R('rbac.authorization.k8s.io', 'v1', 'roles'),
  RoleBinding: R('rbac.authorization.k8s.io', 'v1', 'rolebindings'),
  ClusterRole: R('rbac.authorization.k8s.io', 'v1', 'clusterroles', false),
  ClusterRoleBinding: R('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', false),
  PodMetrics: R('metrics.k8s.io', 'v1beta1', 'pods'),
  SelfSubjectAccessReview: R('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', false),
  SubjectAccessReview: R('authorization.k8s.io', 'v1', 'subjectaccessreviews', false),
  SelfSubjectReview: R('authentication.k8s.io', 'v1', 'selfsubjectreviews', false),
  TokenReview: R('authentication.k8s.io', 'v1', 'tokenreviews', false),
};

export function resourceInfo(kind: string): ResourceInfo | undefined {
  return RESOURCES[kind];
}

/** `/api/v1/namespaces/ns/pods/name` or `/apis/apps/v1/namespaces/ns/deployments`. */
export function resourcePath(kind: string, namespace?: string, name?: string, subresource?: string): string {
  const info = RESOURCES[kind];
  if (!info) throw new Error(`kubemend does not know the REST path of kind ${kind}`);
  const base = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
  const scope = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const item = name ? `/${encodeURIComponent(name)}` : '';
  return `${base}${scope}/${info.plural}${item}${subresource ? `/${subresource}` : ''}`;
}

export function apiVersionFor(kind: string): string {
  const info = RESOURCES[kind];
  if (!info) return 'v1';
  return info.group ? `${info.group}/${info.version}` : info.version;
}
