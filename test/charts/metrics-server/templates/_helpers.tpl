{{- define "ms.fullname" -}}{{ .Release.Name | trunc 63 }}{{- end }}
{{- define "ms.selectorLabels" -}}
app.kubernetes.io/name: metrics-server
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
{{- define "ms.labels" -}}
{{ include "ms.selectorLabels" . }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
