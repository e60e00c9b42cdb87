{{- define "reloader-fullname" -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end }}
{{- define "reloader-labels.chart" -}}
app: {{ template "reloader-fullname" . }}
release: {{ .Release.Name | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
{{- end }}
{{- define "reloader-serviceAccountName" -}}
{{- if .Values.reloader.serviceAccount.create -}}{{ default (include "reloader-fullname" .) .Values.reloader.serviceAccount.name }}{{- else -}}{{ default "default" .Values.reloader.serviceAccount.name }}{{- end -}}
{{- end }}
{{/* Scoped mode: the listed namespaces, trimmed, de-duplicated, sorted. */}}
{{- define "reloader-watchNamespaces" -}}
{{- $ns := .Values.reloader.namespaces | default list -}}
{{- if kindIs "string" $ns -}}{{- $ns = splitList "," $ns -}}{{- end -}}
{{- $clean := list -}}
{{- range $ns -}}{{- $t := . | toString | trim -}}{{- if $t -}}{{- $clean = append $clean $t -}}{{- end -}}{{- end -}}
{{- $clean | uniq | sortAlpha | toJson -}}
{{- end }}
{{- define "reloader-isScoped" -}}
{{- if include "reloader-watchNamespaces" . | mustFromJson -}}true{{- end -}}
{{- end }}
{{/* What Reloader may do in a namespace it watches. */}}
{{- define "reloader-namespaced-rules" }}
  - apiGroups: [""]
    resources:
{{- if not .Values.reloader.ignoreSecrets }}
      - secrets
{{- end }}
{{- if not .Values.reloader.ignoreConfigMaps }}
      - configmaps
{{- end }}
    verbs: [list, get, watch]
  - apiGroups: [apps]
    resources: [deployments, daemonsets, statefulsets]
    verbs: [list, get, watch, update, patch]
  - apiGroups: [batch]
    resources: [cronjobs]
    verbs: [list, get, watch, update, patch]
  - apiGroups: [batch]
    resources: [jobs]
    verbs: [create, delete, list, get, watch]
{{- if .Values.reloader.enableHA }}
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [create, get, update]
{{- end }}
  - apiGroups: ["", events.k8s.io]
    resources: [events]
    verbs: [create, patch, update]
{{- end }}
