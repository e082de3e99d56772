{{- define "backend.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "backend.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "backend.selectorLabels" -}}
app.kubernetes.io/name: {{ include "backend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "backend.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "backend.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kube-bind
{{- end -}}

{{- define "backend.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "backend.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "backend.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "backend.usesSqlite" -}}
{{- if and (not .Values.database.url) (not .Values.database.existingSecret) -}}true{{- end -}}
{{- end -}}

{{- define "backend.servingSecret" -}}
{{- default (printf "%s-serving" (include "backend.fullname" .)) .Values.apiService.certSecretName -}}
{{- end -}}

{{/* Fail early on settings that cannot work. */}}
{{- define "backend.validate" -}}
{{- if and (include "backend.usesSqlite" .) (gt (int .Values.replicaCount) 1) -}}
{{- fail "SQLite supports a single replica only: set database.url or database.existingSecret (Postgres) for replicaCount > 1" -}}
{{- end -}}
{{- if and .Values.database.url .Values.database.existingSecret -}}
{{- fail "set only one of database.url and database.existingSecret" -}}
{{- end -}}
{{- if and .Values.oidc.issuerUrl (not .Values.oidc.clientSecret.existingSecret) -}}
{{- fail "an external OIDC issuer needs oidc.clientSecret.existingSecret" -}}
{{- end -}}
{{- if and .Values.oidc.issuerUrl (not (or .Values.oidc.allowedUsers .Values.oidc.allowedGroups)) -}}
{{- fail "an external OIDC issuer needs oidc.allowedUsers or oidc.allowedGroups" -}}
{{- end -}}
{{- if and (not .Values.oidc.issuerUrl) (gt (int .Values.replicaCount) 1) -}}
{{- fail "the embedded dev OIDC issuer is for single-replica development only: set oidc.issuerUrl" -}}
{{- end -}}
{{- if not (has .Values.consumerScope (list "Namespaced" "Cluster")) -}}
{{- fail "consumerScope must be Namespaced or Cluster" -}}
{{- end -}}
{{- if not (has .Values.isolation (list "Prefixed" "Namespaced" "None")) -}}
{{- fail "isolation must be Prefixed, Namespaced or None" -}}
{{- end -}}
{{- end -}}
