{{- define "kubekuma.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kubekuma.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "kubekuma.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "kubekuma.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kubekuma.labels" -}}
app.kubernetes.io/name: {{ include "kubekuma.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubekuma
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* selector labels of one role: (dict "root" $ "role" "web") */}}
{{- define "kubekuma.selector" -}}
app.kubernetes.io/name: {{ include "kubekuma.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{/* the service account of one role: (dict "root" $ "role" "web") */}}
{{- define "kubekuma.serviceAccountName" -}}
{{- $name := index .root.Values.serviceAccount.names .role -}}
{{- default (printf "%s-%s" (include "kubekuma.fullname" .root) .role) $name -}}
{{- end -}}

{{- define "kubekuma.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/* The namespaces RBAC is granted in: the watched ones, or none (= cluster-wide). */}}
{{- define "kubekuma.kinds" -}}
[kubekumasettings, monitors, monitorsets, notificationproviders, notificationpolicies, statuspages, maintenancewindows, silences, localusers, apikeys]
{{- end -}}
