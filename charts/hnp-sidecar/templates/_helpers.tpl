{{- define "hnp-sidecar.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "hnp-sidecar.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "hnp-sidecar.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "hnp-sidecar.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "hnp-sidecar.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hnp-sidecar.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "hnp-sidecar.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "hnp-sidecar.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "hnp-sidecar.secretName" -}}
{{- default (include "hnp-sidecar.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "hnp-sidecar.redisName" -}}
{{- printf "%s-redis" (include "hnp-sidecar.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The namespaces of the Kubernetes Argo CD driver's Roles. */}}
{{- define "hnp-sidecar.argocdNamespaces" -}}
{{- $nss := list (default "argocd" .Values.config.HNP_ARGOCD_NAMESPACE) }}
{{- range .Values.rbac.argocdNamespaces }}{{ $nss = append $nss . }}{{ end }}
{{- $nss | uniq | toJson }}
{{- end }}

{{- define "hnp-sidecar.sidecarURL" -}}
{{- default (printf "http://%s.%s.svc:%d" (include "hnp-sidecar.fullname" .) .Release.Namespace (int .Values.service.port)) .Values.config.HNP_SIDECAR_URL }}
{{- end }}
