{{/* Names and labels. */}}
{{- define "kubemend.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kubemend.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "kubemend.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "kubemend.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kubemend.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kubemend.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kubemend.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubemend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kubemend.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "kubemend.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubemend
{{- end -}}

{{- define "kubemend.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Cluster-scoped names carry the release namespace: two releases never share them. */}}
{{- define "kubemend.clusterRoleName" -}}
{{- printf "%s-%s-cluster-reader" .Release.Namespace (include "kubemend.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Refusals with a message naming the value, evaluated by every manifest that depends on them
(ConfigMap and Deployment include it; RBAC includes the namespace check).
*/}}
{{- define "kubemend.validate" -}}
{{- if and (eq .Values.storage.driver "sqlite") (gt (int .Values.replicaCount) 1) -}}
{{- fail (printf "replicaCount is %d but storage.driver is sqlite: SQLite is one file on a ReadWriteOnce volume, so it serves one replica only. Use replicaCount: 1, or storage.driver: postgres with storage.postgres.urlSecret for several replicas." (int .Values.replicaCount)) -}}
{{- end -}}
{{- if and (eq .Values.storage.driver "postgres") (not .Values.storage.postgres.urlSecret.name) -}}
{{- fail "storage.driver is postgres but storage.postgres.urlSecret.name is empty: name the Secret that holds the PostgreSQL URL." -}}
{{- end -}}
{{- include "kubemend.validateNamespaces" . -}}
{{- end -}}

{{- define "kubemend.protectedNamespaces" -}}
{{- list "kube-system" "kube-public" "kube-node-lease" "kubemend-system" "kubemend-sim" .Release.Namespace | toJson -}}
{{- end -}}

{{- define "kubemend.validateNamespaces" -}}
{{- $protected := include "kubemend.protectedNamespaces" . | fromJsonArray -}}
{{- range .Values.rbac.namespaces -}}
{{- if has . $protected -}}
{{- fail (printf "rbac.namespaces must not include %q: kube-system, kube-public, kube-node-lease, kubemend-system, kubemend-sim and kubemend's own namespace (%s) are protected; kubemend never gets rights there." . $.Release.Namespace) -}}
{{- end -}}
{{- end -}}
{{- if ne (len .Values.rbac.namespaces) (len (uniq .Values.rbac.namespaces)) -}}
{{- fail "rbac.namespaces lists a namespace twice" -}}
{{- end -}}
{{- end -}}
