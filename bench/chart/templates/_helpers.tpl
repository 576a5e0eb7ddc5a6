{{- define "api.labels" -}}
app: {{ .Values.app | quote }}
app.kubernetes.io/managed-by: "helm"
app.kubernetes.io/name: {{ .Values.app | quote }}
{{- end -}}
