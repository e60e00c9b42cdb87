{{- define "lbc.fullname" -}}{{ .Release.Name | trunc 63 }}{{- end }}
{{- define "lbc.selectorLabels" -}}
app.kubernetes.io/name: aws-load-balancer-controller
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
{{- define "lbc.labels" -}}
{{ include "lbc.selectorLabels" . }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
{{- define "lbc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "lbc.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end }}
{{- define "lbc.webhookClient" -}}
url: {{ .Values.testWebhook.url }}{{ .path }}
caBundle: {{ .Values.testWebhook.caBundle | b64enc }}
{{- end }}
