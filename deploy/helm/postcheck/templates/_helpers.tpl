{{/* The chart's name. */}}
{{- define "postcheck.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: objects are named after it. */}}
{{- define "postcheck.fullname" -}}
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

{{- define "postcheck.selectorLabels" -}}
app.kubernetes.io/name: {{ include "postcheck.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "postcheck.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "postcheck.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "postcheck.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "postcheck.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "postcheck.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "postcheck.resultConfigMap" -}}
{{- default (printf "%s-result" (include "postcheck.fullname" .)) .Values.job.resultConfigMap.name }}
{{- end }}

{{/* Pods run as non-root, read-only, with nothing to escalate to. */}}
{{- define "postcheck.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "postcheck.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* The pod of `postcheck check` (job mode): its spec, shared by the Job and the CronJob. */}}
{{- define "postcheck.checkPod" -}}
metadata:
  labels:
    {{- include "postcheck.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: check
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.podAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  serviceAccountName: {{ include "postcheck.serviceAccountName" . }}
  automountServiceAccountToken: true
  restartPolicy: Never
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- include "postcheck.podSecurityContext" . | nindent 4 }}
  containers:
    - name: postcheck
      image: {{ include "postcheck.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - check
        - --output=json
        - --timeout={{ .Values.job.timeout }}
        {{- with .Values.job.target }}
        - --target={{ . }}
        {{- end }}
        {{- with .Values.job.source }}
        - --source={{ . }}
        {{- end }}
        {{- with .Values.job.wait }}
        - --wait={{ . }}
        - --count={{ $.Values.job.count }}
        {{- end }}
        {{- if .Values.job.policy }}
        - --policy=/etc/postcheck/policy/policy.yaml
        {{- end }}
        {{- if .Values.job.baseline.configMap }}
        - --baseline=/etc/postcheck/baseline/{{ .Values.job.baseline.key }}
        {{- end }}
        {{- if .Values.synthetic.enabled }}
        - --synthetic
        - --synthetic-namespace={{ .Values.synthetic.namespace }}
        {{- end }}
        {{- if .Values.job.resultConfigMap.enabled }}
        - --write-configmap={{ .Release.Namespace }}/{{ include "postcheck.resultConfigMap" . }}
        {{- end }}
        {{- range .Values.job.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      env:
        - name: NO_COLOR
          value: "1"
      securityContext:
        {{- include "postcheck.containerSecurityContext" . | nindent 8 }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if .Values.job.policy }}
        - name: policy
          mountPath: /etc/postcheck/policy
          readOnly: true
        {{- end }}
        {{- if .Values.job.baseline.configMap }}
        - name: baseline
          mountPath: /etc/postcheck/baseline
          readOnly: true
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 16Mi
    {{- if .Values.job.policy }}
    - name: policy
      configMap:
        name: {{ include "postcheck.fullname" . }}-policy
    {{- end }}
    {{- if .Values.job.baseline.configMap }}
    - name: baseline
      configMap:
        name: {{ .Values.job.baseline.configMap }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
