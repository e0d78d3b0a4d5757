{{/*
kubemend's configuration file (src/config/configuration.ts) from the values. The address, the
data directory, the storage driver and authentication are the chart's; secrets (the PostgreSQL
URL, token digests in a Secret, AI keys) arrive as environment variables or mounted files.
*/}}
{{- define "kubemend.configuration" -}}
{{- $config := deepCopy .Values.config -}}
{{- $server := merge (dict "host" "0.0.0.0" "port" 8080) (default (dict) $config.server) -}}
{{- $storage := dict "driver" .Values.storage.driver "retention" .Values.storage.retention "executionLease" .Values.storage.executionLease -}}
{{- if eq .Values.storage.driver "sqlite" -}}
{{- $_ := set $storage "sqliteSynchronous" .Values.storage.sqlite.synchronous -}}
{{- end -}}
{{- if and (eq .Values.storage.driver "postgres") .Values.storage.postgres.schema -}}
{{- $_ := set $storage "schema" .Values.storage.postgres.schema -}}
{{- end -}}
{{- $auth := dict "tokens" .Values.auth.tokens "serviceAccounts" .Values.auth.serviceAccounts -}}
{{- $_ := set $config "server" $server -}}
{{- $_ := set $config "storage" $storage -}}
{{- $_ := set $config "auth" $auth -}}
{{- $_ := set $config "dataDir" "/data" -}}
{{- $_ := set $config "alerts" (dict "routes" .Values.alerts.routes "default" .Values.alerts.default) -}}
{{- $sinks := list -}}
{{- range .Values.notifications.sinks -}}
{{- $file := printf "/etc/kubemend-notifications/%s/%s" .name .secret.key -}}
{{- $sink := dict "type" .type "name" .name -}}
{{- if eq .type "webhook" -}}
{{- $_ := set $sink "url" .url -}}
{{- $_ := set $sink "secretFile" $file -}}
{{- else -}}
{{- $_ := set $sink "urlFile" $file -}}
{{- end -}}
{{- if .events -}}
{{- $_ := set $sink "events" .events -}}
{{- end -}}
{{- $sinks = append $sinks $sink -}}
{{- end -}}
{{- $notifications := dict "sinks" $sinks -}}
{{- if .Values.notifications.publicUrl -}}
{{- $_ := set $notifications "publicUrl" .Values.notifications.publicUrl -}}
{{- end -}}
{{- $_ := set $config "notifications" $notifications -}}
{{- toYaml $config -}}
{{- end -}}
