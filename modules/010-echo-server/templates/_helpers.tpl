{{- define "echo-server.labels" -}}
app.kubernetes.io/name: echo-server
app.kubernetes.io/managed-by: addon-operator
addon-operator.io/cluster: {{ .Values.global.clusterName | quote }}
{{- end -}}

{{- define "echo-server.text" -}}
{{- if eq .Values.echoServer.mode "upper" -}}
{{ upper .Values.echoServer.message }}
{{- else -}}
{{ .Values.echoServer.message }}
{{- end -}}
{{- end -}}
