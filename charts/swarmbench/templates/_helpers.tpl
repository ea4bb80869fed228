{{/* Names */}}
{{- define "swarmbench.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "swarmbench.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "swarmbench.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels */}}
{{- define "swarmbench.selectorLabels" -}}
app.kubernetes.io/name: {{ include "swarmbench.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "swarmbench.labels" -}}
helm.sh/chart: {{ include "swarmbench.chart" . }}
{{ include "swarmbench.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: swarmbench
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "swarmbench.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "swarmbench.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "swarmbench.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Secrets */}}
{{- define "swarmbench.coordinatorTlsSecret" -}}
{{- default (printf "%s-coordinator-tls" (include "swarmbench.fullname" .)) .Values.tls.coordinator.existingSecret }}
{{- end }}

{{- define "swarmbench.agentTlsSecret" -}}
{{- default (printf "%s-agent-tls" (include "swarmbench.fullname" .)) .Values.tls.agent.existingSecret }}
{{- end }}

{{- define "swarmbench.tokenSecret" -}}
{{- default (printf "%s-token" (include "swarmbench.fullname" .)) .Values.token.existingSecret }}
{{- end }}

{{- define "swarmbench.coordinatorHost" -}}
{{- printf "%s-coordinator" (include "swarmbench.fullname" .) }}
{{- end }}

{{- define "swarmbench.outputsClaim" -}}
{{- default (printf "%s-outputs" (include "swarmbench.fullname" .)) .Values.outputs.persistence.existingClaim }}
{{- end }}

{{/* The sum of every pool's replicas. */}}
{{- define "swarmbench.totalAgents" -}}
{{- $total := 0 }}
{{- range .Values.agents.pools }}
{{- $pool := mergeOverwrite (deepCopy $.Values.agents.defaults) . }}
{{- $total = add $total (int $pool.replicas) }}
{{- end }}
{{- $total }}
{{- end }}

{{/* Environment variables with secret-looking names must come from Secrets. */}}
{{- define "swarmbench.checkEnv" -}}
{{- range .env }}
{{- if and (hasKey . "value") (regexMatch "(?i)(api_?key|token|secret|password|credential)" .name) }}
{{- fail (printf "%s: environment variable %s looks like a secret; give it through apiKeys (a Secret), not a plain value" $.where .name) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The rendered plan: plan.spec with the chart's coordinator section and min_agents. */}}
{{- define "swarmbench.plan" -}}
{{- $plan := deepCopy .Values.plan.spec }}
{{- $agents := deepCopy (default dict $plan.agents) }}
{{- if not (hasKey $agents "min_agents") }}
{{- $_ := set $agents "min_agents" (int (include "swarmbench.totalAgents" .)) }}
{{- end }}
{{- $_ := set $plan "agents" $agents }}
{{- $coord := dict "listen" (printf "0.0.0.0:%d" (int .Values.coordinator.port)) "token_file" "/etc/swarmbench/token/token" }}
{{- if .Values.tls.enabled }}
{{- $_ := set $coord "tls" (dict "cert" "/etc/swarmbench/tls/tls.crt" "key" "/etc/swarmbench/tls/tls.key" "client_ca" "/etc/swarmbench/tls/ca.crt") }}
{{- else }}
{{- $_ := set $coord "insecure" true }}
{{- end }}
{{- $_ := set $plan "coordinator" $coord }}
{{- tpl (toYaml $plan) . }}
{{- end }}

{{/* Pod-level settings shared by every workload. */}}
{{- define "swarmbench.podCommon" -}}
serviceAccountName: {{ include "swarmbench.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.automountServiceAccountToken }}
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* OTLP environment. */}}
{{- define "swarmbench.otelEnv" -}}
{{- if .Values.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.otel.endpoint | quote }}
{{- end }}
{{- end }}
