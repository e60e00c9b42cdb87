{{- define "eso.fullname" -}}{{ .Release.Name | trunc 63 }}{{- end }}
{{- define "eso.labels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
{{- define "eso.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "eso.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end }}
{{- define "eso.pdbSpec" -}}
{{- with .minAvailable }}
minAvailable: {{ . }}
{{- end }}
{{- with .maxUnavailable }}
maxUnavailable: {{ . }}
{{- end }}
{{- end }}
{{- define "eso.webhookClient" -}}
url: {{ .Values.testWebhook.url }}{{ .path }}
caBundle: {{ .Values.testWebhook.caBundle | b64enc }}
{{- end }}
