/**
 * Deterministic risk: from the action type, the target and its blast radius. Never imports the AI
 * layer; a model or caller may claim a higher risk, never a lower one (`assessRisk` takes the max).
 */
import {
  type RiskLevel,
  maxRisk,
  CLUSTER_SCOPED_KINDS,
  WORKLOAD_KINDS,
  type ActionDraft,
} from '../domain/index.js';

const CONTROLLER_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);
const WORKLOADS: ReadonlySet<string> = new Set(WORKLOAD_KINDS);
const RBAC_KINDS = new Set(['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding', 'ServiceAccount']);
const STORAGE_KINDS = new Set([
  'PersistentVolumeClaim',
  'PersistentVolume',
  'StorageClass',
  'VolumeAttachment',
]);
const POLICY_KINDS = new Set([
  'ResourceQuota',
  'LimitRange',
  'NetworkPolicy',
  'PodDisruptionBudget',
  'Namespace',
]);

/** Fields whose change widens what a workload may do on its node: always high. */
const ESCALATING =
  /"privileged":true|"hostNetwork":true|"hostPID":true|"hostIPC":true|"hostPath"|"allowPrivilegeEscalation":true|"runAsUser":0\b|"SYS_ADMIN"|"NET_ADMIN"|"add":\["ALL"\]/;
/** Patches that remove a safety net: probes or resource limits set to null. */
const REMOVES_SAFETY =
  /"(?:livenessProbe|readinessProbe|startupProbe|limits|resources|securityContext)":null|"op":"remove"/;

export interface RiskContext {
  readonly protectedNamespaces: ReadonlySet<string>;
  /** Current replicas of the target, when known (for scale direction). */
  readonly currentReplicas?: number;
}

export function baseRisk(draft: ActionDraft, context: RiskContext): RiskLevel {
  const { kind, namespace } = draft.target;
  if (namespace && context.protectedNamespaces.has(namespace)) return 'high';
  if (CLUSTER_SCOPED_KINDS.has(kind) && draft.type !== 'manual') return 'high';
  if (RBAC_KINDS.has(kind) && draft.type !== 'manual') return 'high';
  switch (draft.type) {
    case 'manual':
      return 'low';
    case 'delete':
    case 'cordon':
    case 'uncordon':
      return 'high';
    case 'restart':
      if (kind === 'StatefulSet') return 'medium';
      return CONTROLLER_KINDS.has(kind) ? 'low' : 'medium';
    case 'scale': {
      if (draft.params.replicas === 0) return 'high';
      if (context.currentReplicas !== undefined && draft.params.replicas < context.currentReplicas)
        return 'medium';
      if (context.currentReplicas !== undefined && draft.params.replicas > context.currentReplicas * 3 + 2)
        return 'medium';
      return context.currentReplicas === undefined ? 'medium' : 'low';
    }
    case 'rollback':
      return 'medium';
    case 'create':
      if (STORAGE_KINDS.has(kind) || POLICY_KINDS.has(kind)) return 'high';
      return 'medium';
    case 'patch': {
      const body = JSON.stringify(draft.params.patch).replace(/\s+/g, '');
      if (ESCALATING.test(body) || REMOVES_SAFETY.test(body)) return 'high';
      if (STORAGE_KINDS.has(kind) || POLICY_KINDS.has(kind)) return 'high';
      if (
        WORKLOADS.has(kind) ||
        kind === 'Service' ||
        kind === 'HorizontalPodAutoscaler' ||
        kind === 'ConfigMap'
      )
        return 'medium';
      return 'high';
    }
  }
}

/** The action's risk: our own rules, raised (never lowered) by a builder's or a model's claim. */
export function assessRisk(draft: ActionDraft, context: RiskContext, claimed?: RiskLevel): RiskLevel {
  const computed = baseRisk(draft, context);
  return maxRisk(computed, draft.minimumRisk ?? 'low', claimed ?? 'low');
}
