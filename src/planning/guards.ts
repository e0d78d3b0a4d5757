import type { ActionDraft } from '../domain/index.js';
/**
 * Hard guards every proposed action passes, whoever proposed it (a rule or a model): no probe is
 * removed, no RBAC is widened cluster-wide, nothing escalates privileges, nothing is deleted in
 * bulk. Fail closed: an action a guard cannot vouch for is rejected with a reason.
 */

const REMOVES_PROBE =
  /"(?:livenessProbe|readinessProbe|startupProbe)":null|"path":"\/spec\/template\/spec\/containers\/\d+\/(?:livenessProbe|readinessProbe|startupProbe)"[^}]*"op":"remove"|"op":"remove"[^}]*"path":"[^"]*(?:livenessProbe|readinessProbe|startupProbe)/;
const ESCALATES =
  /"privileged":true|"runAsUser":0\b|"allowPrivilegeEscalation":true|"hostPID":true|"hostNetwork":true|"hostIPC":true|"add":\["(?:ALL|SYS_ADMIN)"\]/;
const WIDE_RBAC =
  /"cluster-admin"|"verbs":\["\*"\]|"resources":\["\*"\]|"apiGroups":\["\*"\]|"name":"system:serviceaccounts"|"name":"system:authenticated"/;
const SILENCES =
  /"optional":true|"progressDeadlineSeconds":\d{5,}|"imagePullPolicy":"Never"|"command":\["sleep"|"sleep infinity"|"operator":"Exists"}\]/;

export function guardDraft(draft: ActionDraft): { ok: true } | { ok: false; reason: string } {
  const body = JSON.stringify(draft.params).replace(/\s+/g, '');
  if (
    draft.type === 'delete' &&
    [
      'Namespace',
      'Deployment',
      'StatefulSet',
      'DaemonSet',
      'PersistentVolumeClaim',
      'PersistentVolume',
      'Node',
      'Service',
      'HorizontalPodAutoscaler',
      'ResourceQuota',
    ].includes(draft.target.kind)
  ) {
    return { ok: false, reason: `deleting a ${draft.target.kind} is never a remediation` };
  }
  if (REMOVES_PROBE.test(body))
    return { ok: false, reason: 'removing a probe hides the failure instead of fixing it' };
  if (ESCALATES.test(body))
    return { ok: false, reason: "the change would escalate the workload's privileges" };
  if (draft.target.kind === 'ClusterRoleBinding' || draft.target.kind === 'ClusterRole') {
    return { ok: false, reason: 'kubemend never widens RBAC cluster-wide' };
  }
  if (WIDE_RBAC.test(body))
    return { ok: false, reason: 'the change grants wildcard or cluster-admin permissions' };
  if (SILENCES.test(body))
    return { ok: false, reason: 'the change silences the symptom instead of fixing the cause' };
  if (draft.type === 'scale' && draft.params.replicas === 0)
    return { ok: false, reason: 'scaling to zero is an outage, not a fix' };
  return { ok: true };
}
