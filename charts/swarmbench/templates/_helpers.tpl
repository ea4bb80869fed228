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

{{/* The run's name: names the Jobs and the run folder; not revision-dependent. */}}
{{- define "swarmbench.runName" -}}
{{- default .Release.Name .Values.runName | trunc 36 | trimSuffix "-" }}
{{- end }}

{{- define "swarmbench.coordinatorJobName" -}}
{{- printf "%s-coordinator" (include "swarmbench.runName" .) }}
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

{{/* Labels of Job pod templates: no chart or app version, since a Job's pod template cannot
change (a chart upgrade must not make a running run's Jobs un-upgradable). */}}
{{- define "swarmbench.stableLabels" -}}
{{ include "swarmbench.selectorLabels" . }}
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

{{/* Whether llm-sim is deployed: llmSim.enabled, or by default only with a coordinator. */}}
{{- define "swarmbench.llmSimEnabled" -}}
{{- $v := index .Values.llmSim "enabled" }}
{{- if kindIs "invalid" $v }}
{{- ternary "true" "" (eq (toString .Values.coordinator.enabled) "true") }}
{{- else }}
{{- ternary "true" "" (eq (toString $v) "true") }}
{{- end }}
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

{{- define "swarmbench.tokenKey" -}}
{{- ternary .Values.token.existingSecretKey "token" (ne .Values.token.existingSecret "") }}
{{- end }}

{{- define "swarmbench.coordinatorHost" -}}
{{- printf "%s-coordinator" (include "swarmbench.fullname" .) }}
{{- end }}

{{- define "swarmbench.outputsClaim" -}}
{{- default (printf "%s-outputs" (include "swarmbench.fullname" .)) .Values.outputs.persistence.existingClaim }}
{{- end }}

{{/* The URL agents dial. */}}
{{- define "swarmbench.coordinatorUrl" -}}
{{- if .Values.agents.coordinatorUrl }}
{{- .Values.agents.coordinatorUrl }}
{{- else if .Values.coordinator.enabled }}
{{- printf "%s://%s:%d" (ternary "https" "http" .Values.tls.enabled) (include "swarmbench.coordinatorHost" .) (int .Values.coordinator.port) }}
{{- else }}
{{- fail "agents.coordinatorUrl is required when coordinator.enabled is false (agents-only install): the coordinator's external URL, e.g. https://swarm.example.com:7070" }}
{{- end }}
{{- end }}

{{/* The port of a URL (its explicit port, else 443 for https and 80 for http). */}}
{{- define "swarmbench.urlPort" -}}
{{- $u := urlParse . }}
{{- $m := regexFind ":[0-9]+$" $u.host }}
{{- if $m }}{{ trimPrefix ":" $m }}{{ else if eq $u.scheme "http" }}80{{ else }}443{{ end }}
{{- end }}

{{/* Whether the chart generates the TLS material (CA, server and agent certificates). */}}
{{- define "swarmbench.generateTls" -}}
{{- if and .Values.tls.enabled .Values.coordinator.enabled (not .Values.tls.coordinator.existingSecret) (not .Values.tls.agent.existingSecret) }}true{{ end }}
{{- end }}

{{/* Whether the chart generates the token. */}}
{{- define "swarmbench.generateToken" -}}
{{- if and .Values.coordinator.enabled (not .Values.token.existingSecret) }}true{{ end }}
{{- end }}

{{/* The DNS names and IP addresses of the generated server certificate, comma separated. */}}
{{- define "swarmbench.serverSans" -}}
{{- $host := include "swarmbench.coordinatorHost" . }}
{{- $ns := .Release.Namespace }}
{{- $sans := list $host (printf "%s.%s" $host $ns) (printf "%s.%s.svc" $host $ns) (printf "%s.%s.svc.cluster.local" $host $ns) "localhost" "127.0.0.1" }}
{{- range .Values.tls.coordinator.extraSans }}
{{- $sans = append $sans . }}
{{- end }}
{{- if and .Values.coordinator.ingress.enabled .Values.coordinator.ingress.host }}
{{- $sans = append $sans .Values.coordinator.ingress.host }}
{{- end }}
{{- join "," (uniq $sans) }}
{{- end }}

{{/*
The generated TLS material and token, computed once per render (memoized in .Values, so that
every template sees the same CA and token) and stable across upgrades: when the Secrets of an
earlier release exist (`lookup`), their data is reused verbatim, unless the server names changed
or the certificates expire within tls.renewBeforeDays. Returns JSON:
{tls: {ca, serverCrt, serverKey, agentCrt, agentKey, sans, notAfter, reused}, token: {value, reused}}
(base64 values, as in a Secret's data). `lookup` returns nothing in `helm template` and
--dry-run: then fresh material is rendered (and not applied).
*/}}
{{- define "swarmbench.generated" -}}
{{- if not (hasKey .Values "__swarmbenchGenerated") }}
{{- $g := dict "tls" dict "token" dict }}
{{- $ns := .Release.Namespace }}
{{- if include "swarmbench.generateTls" . }}
{{- $sans := include "swarmbench.serverSans" . }}
{{- $days := int .Values.tls.generatedValidityDays }}
{{- $c := lookup "v1" "Secret" $ns (include "swarmbench.coordinatorTlsSecret" .) }}
{{- $a := lookup "v1" "Secret" $ns (include "swarmbench.agentTlsSecret" .) }}
{{- $cd := dig "data" dict $c }}
{{- $ad := dig "data" dict $a }}
{{- $reuse := true }}
{{- range $k := list "ca.crt" "tls.crt" "tls.key" }}
{{- if not (and (hasKey $cd $k) (hasKey $ad $k)) }}{{ $reuse = false }}{{ end }}
{{- end }}
{{- if $reuse }}
{{- if ne (index $cd "ca.crt") (index $ad "ca.crt") }}{{ $reuse = false }}{{ end }}
{{- if ne (dig "metadata" "annotations" "swarmbench.io/server-names" "" $c) $sans }}{{ $reuse = false }}{{ end }}
{{- $notAfter := dig "metadata" "annotations" "swarmbench.io/not-after" "0" $c | int64 }}
{{- $renewAt := now | dateModify (printf "+%dh" (mul 24 (int .Values.tls.renewBeforeDays))) }}
{{- if le $notAfter $renewAt.Unix }}{{ $reuse = false }}{{ end }}
{{- end }}
{{- if $reuse }}
{{- $_ := set $g "tls" (dict "ca" (index $cd "ca.crt") "serverCrt" (index $cd "tls.crt") "serverKey" (index $cd "tls.key") "agentCrt" (index $ad "tls.crt") "agentKey" (index $ad "tls.key") "sans" $sans "notAfter" (dig "metadata" "annotations" "swarmbench.io/not-after" "0" $c) "reused" true) }}
{{- else }}
{{- $fullname := include "swarmbench.fullname" . }}
{{- $host := include "swarmbench.coordinatorHost" . }}
{{- $ips := list }}
{{- $names := list }}
{{- range splitList "," $sans }}
{{- if regexMatch "^[0-9.]+$|:" . }}{{ $ips = append $ips . }}{{ else }}{{ $names = append $names . }}{{ end }}
{{- end }}
{{- $ca := genCA (printf "%s CA" $fullname) $days }}
{{- $server := genSignedCert $host $ips $names $days $ca }}
{{- $agent := genSignedCert (printf "%s-agent" $fullname) nil nil $days $ca }}
{{- $notAfter := (now | dateModify (printf "+%dh" (mul 24 $days))).Unix }}
{{- $_ := set $g "tls" (dict "ca" ($ca.Cert | b64enc) "serverCrt" ($server.Cert | b64enc) "serverKey" ($server.Key | b64enc) "agentCrt" ($agent.Cert | b64enc) "agentKey" ($agent.Key | b64enc) "sans" $sans "notAfter" (toString $notAfter) "reused" false) }}
{{- end }}
{{- end }}
{{- if include "swarmbench.generateToken" . }}
{{- $t := lookup "v1" "Secret" $ns (include "swarmbench.tokenSecret" .) }}
{{- $td := dig "data" dict $t }}
{{- if hasKey $td "token" }}
{{- $_ := set $g "token" (dict "value" (index $td "token") "reused" true) }}
{{- else }}
{{- $_ := set $g "token" (dict "value" (randAlphaNum 48 | b64enc) "reused" false) }}
{{- end }}
{{- end }}
{{- $_ := set .Values "__swarmbenchGenerated" $g }}
{{- end }}
{{- index .Values "__swarmbenchGenerated" | toJson }}
{{- end }}

{{/* A fingerprint of some keys of an existing Secret: their data when `lookup` finds it,
else the names only (helm template, --dry-run, or a Secret created later). Args: root, name, keys. */}}
{{- define "swarmbench.secretFingerprint" -}}
{{- $s := lookup "v1" "Secret" .root.Release.Namespace .name }}
{{- $d := dig "data" dict $s }}
{{- $parts := list .name }}
{{- range .keys }}
{{- $parts = append $parts (printf "%s=%s" . (index $d . | default "?")) }}
{{- end }}
{{- join ";" $parts }}
{{- end }}

{{/*
A checksum of the credentials an agent pool mounts (token, CA, client certificate and key): the
agents' pod template changes when, and only when, that material changes. Args: root, pool.
*/}}
{{- define "swarmbench.agentCredentialsChecksum" -}}
{{- $root := .root }}
{{- $g := include "swarmbench.generated" $root | fromJson }}
{{- $parts := list }}
{{- if include "swarmbench.generateToken" $root }}
{{- $parts = append $parts (printf "token=%s" $g.token.value) }}
{{- else }}
{{- $parts = append $parts (include "swarmbench.secretFingerprint" (dict "root" $root "name" (include "swarmbench.tokenSecret" $root) "keys" (list (include "swarmbench.tokenKey" $root)))) }}
{{- end }}
{{- if $root.Values.tls.enabled }}
{{- $t := $root.Values.tls.agent }}
{{- if .pool.tlsSecret }}
{{- $parts = append $parts (include "swarmbench.secretFingerprint" (dict "root" $root "name" .pool.tlsSecret "keys" (list $t.certKey $t.keyKey $t.caKey))) }}
{{- else if include "swarmbench.generateTls" $root }}
{{- $parts = append $parts (printf "ca=%s;crt=%s;key=%s" $g.tls.ca $g.tls.agentCrt $g.tls.agentKey) }}
{{- else }}
{{- $parts = append $parts (include "swarmbench.secretFingerprint" (dict "root" $root "name" $t.existingSecret "keys" (ternary (list $t.certKey $t.keyKey) (list $t.certKey $t.keyKey $t.caKey) (ne $t.caSecret "")))) }}
{{- end }}
{{- if $t.caSecret }}
{{- $parts = append $parts (include "swarmbench.secretFingerprint" (dict "root" $root "name" $t.caSecret "keys" (list $t.caKey))) }}
{{- end }}
{{- end }}
{{- join "\n" $parts | sha256sum }}
{{- end }}

{{/* The same for the coordinator's token and server certificate. */}}
{{- define "swarmbench.coordinatorCredentialsChecksum" -}}
{{- $g := include "swarmbench.generated" . | fromJson }}
{{- $parts := list }}
{{- if include "swarmbench.generateToken" . }}
{{- $parts = append $parts (printf "token=%s" $g.token.value) }}
{{- else }}
{{- $parts = append $parts (include "swarmbench.secretFingerprint" (dict "root" . "name" (include "swarmbench.tokenSecret" .) "keys" (list (include "swarmbench.tokenKey" .)))) }}
{{- end }}
{{- if .Values.tls.enabled }}
{{- $t := .Values.tls.coordinator }}
{{- if include "swarmbench.generateTls" . }}
{{- $parts = append $parts (printf "ca=%s;crt=%s;key=%s" $g.tls.ca $g.tls.serverCrt $g.tls.serverKey) }}
{{- else }}
{{- $parts = append $parts (include "swarmbench.secretFingerprint" (dict "root" . "name" $t.existingSecret "keys" (ternary (list $t.certKey $t.keyKey) (list $t.certKey $t.keyKey $t.caKey) (ne $t.caSecret "")))) }}
{{- if $t.caSecret }}
{{- $parts = append $parts (include "swarmbench.secretFingerprint" (dict "root" . "name" $t.caSecret "keys" (list $t.caKey))) }}
{{- end }}
{{- end }}
{{- end }}
{{- join "\n" $parts | sha256sum }}
{{- end }}

{{/* The token volume. */}}
{{- define "swarmbench.tokenVolume" -}}
- name: token
  secret:
    secretName: {{ include "swarmbench.tokenSecret" . }}
    defaultMode: 288 # 0440: readable by fsGroup 65532
    items:
      - key: {{ include "swarmbench.tokenKey" . }}
        path: token
{{- end }}

{{/* The TLS volume (ca.crt, tls.crt, tls.key), from one Secret or a Secret and a CA Secret.
Args: secret, keys (certKey, keyKey, caKey, caSecret). */}}
{{- define "swarmbench.tlsVolume" -}}
- name: tls
  projected:
    defaultMode: 288 # 0440: readable by fsGroup 65532
    sources:
      - secret:
          name: {{ .secret }}
          items:
            - key: {{ .keys.certKey }}
              path: tls.crt
            - key: {{ .keys.keyKey }}
              path: tls.key
            {{- if not .keys.caSecret }}
            - key: {{ .keys.caKey }}
              path: ca.crt
            {{- end }}
      {{- with .keys.caSecret }}
      - secret:
          name: {{ . }}
          items:
            - key: {{ $.keys.caKey }}
              path: ca.crt
      {{- end }}
{{- end }}

{{/* The sum of every pool's replicas in this install. */}}
{{- define "swarmbench.totalAgents" -}}
{{- $total := 0 }}
{{- range .Values.agents.pools }}
{{- $pool := mergeOverwrite (deepCopy $.Values.agents.defaults) . }}
{{- $total = add $total (int $pool.replicas) }}
{{- end }}
{{- $total }}
{{- end }}

{{/* Every agent the coordinator expects: this install's pools plus agents.remoteAgents. */}}
{{- define "swarmbench.expectedAgents" -}}
{{- add (int (include "swarmbench.totalAgents" .)) (int .Values.agents.remoteAgents) }}
{{- end }}

{{/* Environment variables with secret-looking names must come from Secrets. */}}
{{- define "swarmbench.checkEnv" -}}
{{- range .env }}
{{- if and (hasKey . "value") (regexMatch "(?i)(api_?key|token|secret|password|credential)" .name) }}
{{- fail (printf "%s: environment variable %s looks like a secret; give it through apiKeys (a Secret), not a plain value" $.where .name) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The rendered plan: plan.spec with the chart's coordinator section, min_agents and wait_s. */}}
{{- define "swarmbench.plan" -}}
{{- $plan := deepCopy .Values.plan.spec }}
{{- $agents := deepCopy (default dict $plan.agents) }}
{{- $expected := int (include "swarmbench.expectedAgents" .) }}
{{- $min := index .Values.agents "minAgents" }}
{{- if not (kindIs "invalid" $min) }}
{{- $_ := set $agents "min_agents" (int $min) }}
{{- else if not (hasKey $agents "min_agents") }}
{{- $pct := int .Values.agents.quorumPercent }}
{{- $_ := set $agents "min_agents" (div (add (mul $expected $pct) 99) 100) }}
{{- end }}
{{- if gt (int (index $agents "min_agents")) $expected }}
{{- fail (printf "agents.minAgents (or plan agents.min_agents) is %d, more than the %d agents expected (agents.pools replicas + agents.remoteAgents)" (int (index $agents "min_agents")) $expected) }}
{{- end }}
{{- if and (eq (int (index $agents "min_agents")) 0) (not (index $agents "local_agents")) }}
{{- fail "the plan has no agents: give agents.pools replicas, agents.remoteAgents (agents of other clusters), or the plan's agents.local_agents" }}
{{- end }}
{{- $wait := index .Values.agents "waitSeconds" }}
{{- if not (kindIs "invalid" $wait) }}
{{- $_ := set $agents "wait_s" $wait }}
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

{{/* A checksum of the plan that names the run: everything but the agents' quorum and wait
(min_agents, wait_s), which an upgrade that only scales the agents changes. For a plan from an
existing ConfigMap: its data when `lookup` finds it. */}}
{{- define "swarmbench.planChecksum" -}}
{{- if .Values.plan.existingConfigMap }}
{{- $cm := lookup "v1" "ConfigMap" .Release.Namespace .Values.plan.existingConfigMap }}
{{- printf "%s/%s:%s" .Values.plan.existingConfigMap .Values.plan.existingConfigMapKey (dig "data" .Values.plan.existingConfigMapKey "" $cm) | sha256sum }}
{{- else }}
{{- $plan := include "swarmbench.plan" . | fromYaml }}
{{- $agents := omit (default dict $plan.agents) "min_agents" "wait_s" }}
{{- $_ := set $plan "agents" $agents }}
{{- toYaml $plan | sha256sum }}
{{- end }}
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

{{/* The annotations that keep autoscalers from moving a pod mid-run. */}}
{{- define "swarmbench.doNotDisrupt" -}}
karpenter.sh/do-not-disrupt: "true"
cluster-autoscaler.kubernetes.io/safe-to-evict: "false"
{{- end }}

{{/* OTLP environment. */}}
{{- define "swarmbench.otelEnv" -}}
{{- if .Values.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.otel.endpoint | quote }}
{{- end }}
{{- end }}
