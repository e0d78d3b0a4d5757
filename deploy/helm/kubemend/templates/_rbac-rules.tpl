{{/*
kubemend's least-privilege rules — the same as deploy/rbac/kubemend-rbac.yaml (a test keeps them
equal). Deliberately absent: secrets (no get/list/watch), any rbac.authorization.k8s.io write,
delete on anything but pods, create on anything but configmaps, pods/exec, pods/eviction,
nodes/proxy.
*/}}

{{/* Cluster-scoped reads (RBAC bindings included), node cordon/uncordon, token, self and subject access reviews. Nothing namespaced. */}}
{{- define "kubemend.clusterRules" -}}
- apiGroups: ['']
  resources: [nodes, persistentvolumes, namespaces]
  verbs: [get, list, watch]
- apiGroups: [storage.k8s.io]
  resources: [storageclasses]
  verbs: [get, list, watch]
# cordon / uncordon (spec.unschedulable) only; RBAC cannot narrow a patch to a field,
# kubemend's planner is what restricts the patch body.
- apiGroups: ['']
  resources: [nodes]
  verbs: [patch]
- apiGroups: [authentication.k8s.io]
  resources: [tokenreviews]
  verbs: [create]
- apiGroups: [authorization.k8s.io]
  resources: [selfsubjectaccessreviews]
  verbs: [create]
# RBAC questions: read who is bound to what, and ask the authorizer about a ServiceAccount.
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles, clusterrolebindings]
  verbs: [get, list, watch]
- apiGroups: [authorization.k8s.io]
  resources: [subjectaccessreviews]
  verbs: [create]
- apiGroups: [authentication.k8s.io]
  resources: [selfsubjectreviews]
  verbs: [create]
{{- end -}}

{{/* Reads and the writes kubemend's action types need, granted per opted-in namespace. */}}
{{- define "kubemend.namespacedRules" -}}
# --- reads ---
- apiGroups: [metrics.k8s.io]
  resources: [pods]
  verbs: [get, list]
- apiGroups: ['']
  resources:
    - pods
    - pods/log
    - events
    - configmaps
    - services
    - endpoints
    - persistentvolumeclaims
    - resourcequotas
    - limitranges
    - serviceaccounts
  verbs: [get, list, watch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [replicasets, controllerrevisions, deployments, statefulsets, daemonsets]
  verbs: [get, list, watch]
- apiGroups: [batch]
  resources: [jobs, cronjobs]
  verbs: [get, list, watch]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [get, list, watch]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, rolebindings]
  verbs: [get, list, watch]
# --- writes: only what kubemend's action types need ---
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets]
  verbs: [patch, update]
- apiGroups: [batch]
  resources: [cronjobs]
  verbs: [patch, update]
- apiGroups: ['']
  resources: [services]
  verbs: [patch, update]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [patch, update]
- apiGroups: [apps]
  resources: [deployments/scale, statefulsets/scale, replicasets/scale]
  verbs: [get, patch, update]
- apiGroups: ['']
  resources: [configmaps]
  verbs: [create]
# restart of a controller-managed pod
- apiGroups: ['']
  resources: [pods]
  verbs: [delete]
{{- end -}}
