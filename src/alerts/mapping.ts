/**
 * An alert as a remediation issue (pure). The alert's name, summary and description become the
 * issue text; its labels name the target; kubemend gathers the rest live. The kubernetes-mixin
 * alerts users run are mapped to the object they are about and to words that point the rules at
 * the likely category; any other alert is a plain issue whose target comes from whichever of the
 * well-known labels it carries.
 */
import { ISSUE_MAX_LENGTH, type RemediateInput, type Target } from '../domain/index.js';
import type { Alert } from './payload.js';

/** Which label names the target, and the object's kind. */
interface TargetLabel {
  readonly label: string;
  readonly kind: string;
  /** Cluster-scoped (no namespace). */
  readonly clusterScoped?: boolean;
}

const POD: TargetLabel = { label: 'pod', kind: 'Pod' };
const DEPLOYMENT: TargetLabel = { label: 'deployment', kind: 'Deployment' };
const STATEFULSET: TargetLabel = { label: 'statefulset', kind: 'StatefulSet' };
const DAEMONSET: TargetLabel = { label: 'daemonset', kind: 'DaemonSet' };
const JOB: TargetLabel = { label: 'job_name', kind: 'Job' };
const HPA: TargetLabel = { label: 'horizontalpodautoscaler', kind: 'HorizontalPodAutoscaler' };
const PVC: TargetLabel = { label: 'persistentvolumeclaim', kind: 'PersistentVolumeClaim' };
const NODE: TargetLabel = { label: 'node', kind: 'Node', clusterScoped: true };

/** Labels that name a target, most specific first (for alerts not in the table). */
export const TARGET_LABELS: readonly TargetLabel[] = [
  POD,
  DEPLOYMENT,
  STATEFULSET,
  DAEMONSET,
  JOB,
  HPA,
  PVC,
  NODE,
];

export interface AlertMapping {
  /** The label that names the target (none: the namespace only, the resolver scans it). */
  readonly target?: TargetLabel;
  /** Words added to the issue: what the alert means, in the vocabulary the rules read. */
  readonly hint: string;
  /** The category this alert usually ends in (documentation; the rules decide). */
  readonly category: string;
}

/** The kubernetes-mixin alerts (docs/alerts.md prints this table). */
export const ALERT_MAPPINGS: Readonly<Record<string, AlertMapping>> = {
  KubePodCrashLooping: {
    target: POD,
    hint: 'the container is crash looping (CrashLoopBackOff)',
    category: 'crash-loop (or oom-killed, config-missing, invalid-command, …)',
  },
  KubePodNotReady: {
    target: POD,
    hint: 'the pod is not ready',
    category: 'readiness-probe-failure (or scheduling, image pull, …)',
  },
  KubeContainerWaiting: {
    target: POD,
    hint: 'the container is waiting and not running',
    category: 'image-pull-* , config-missing, volume-mount-failure',
  },
  KubeDeploymentReplicasMismatch: {
    target: DEPLOYMENT,
    hint: 'the deployment does not have its desired replicas available',
    category: 'insufficient-resources, scheduling-constraints, crash-loop, …',
  },
  KubeDeploymentRolloutStuck: {
    target: DEPLOYMENT,
    hint: 'the deployment rollout is stuck and not progressing',
    category: 'rollout-stuck',
  },
  KubeStatefulSetReplicasMismatch: {
    target: STATEFULSET,
    hint: 'the statefulset does not have its desired replicas ready',
    category: 'volume-pending, crash-loop, …',
  },
  KubeDaemonSetRolloutStuck: {
    target: DAEMONSET,
    hint: 'the daemonset rollout is stuck',
    category: 'rollout-stuck, image-pull-*',
  },
  KubeJobFailed: { target: JOB, hint: 'the job failed', category: 'job-failed' },
  KubeHpaMaxedOut: {
    target: HPA,
    hint: 'the horizontal pod autoscaler is at its maximum replicas',
    category: 'hpa-limited',
  },
  KubePersistentVolumeFillingUp: {
    target: PVC,
    hint: 'the persistent volume claim is filling up (disk space)',
    category: 'volume-* (advice)',
  },
  KubeQuotaExceeded: { hint: 'the resource quota of the namespace is exceeded', category: 'quota-exceeded' },
  CPUThrottlingHigh: { target: POD, hint: 'the container is CPU throttled', category: 'cpu-throttling' },
  KubeNodeNotReady: { target: NODE, hint: 'the node is not ready', category: 'node-not-ready' },
};

function targetOf(alert: Alert, mapping: AlertMapping | undefined): Target | undefined {
  const labels = alert.labels;
  const candidates = mapping ? (mapping.target ? [mapping.target] : []) : TARGET_LABELS;
  for (const candidate of candidates) {
    const name = labels[candidate.label];
    if (!name) continue;
    if (candidate.clusterScoped) return { kind: candidate.kind, name };
    const namespace = labels.namespace;
    if (!namespace) continue;
    return { kind: candidate.kind, namespace, name };
  }
  return undefined;
}

/** The issue an alert raises: text from its name and annotations, the target from its labels. */
export function issueFromAlert(alert: Alert): Pick<RemediateInput, 'issue' | 'target'> {
  const name = alert.labels.alertname!;
  const mapping = ALERT_MAPPINGS[name];
  const { summary, description, message } = alert.annotations;
  const where = ['namespace', 'pod', 'container', ...TARGET_LABELS.map((t) => t.label)]
    .filter((label, index, all) => all.indexOf(label) === index && alert.labels[label])
    .map((label) => `${label} ${alert.labels[label]}`)
    .join(', ');
  const parts = [
    `Alert ${name}${summary ? `: ${summary}` : ''}`,
    description ?? message,
    mapping?.hint,
    where ? `(${where})` : undefined,
  ].filter((part): part is string => part !== undefined && part !== '');
  const issue = parts.join('. ').slice(0, ISSUE_MAX_LENGTH);
  const target = targetOf(alert, mapping);
  return target ? { issue, target } : { issue };
}
