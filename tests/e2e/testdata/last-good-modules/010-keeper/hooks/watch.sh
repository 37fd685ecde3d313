#!/usr/bin/env bash
# kubernetes binding: labelled ConfigMaps of the addons namespace; an Event stores the name of
# the latest one as a value (a values patch checked against openapi/values.yaml).
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
- name: configmaps
  apiVersion: v1
  kind: ConfigMap
  namespace:
    nameSelector:
      matchNames: [addons]
  labelSelector:
    matchLabels:
      keep-me: "yes"
  executeHookOnSynchronization: false
CONFIG
  exit 0
fi
last=$(jq -c '[.[] | select(.type == "Event") | .object.metadata.name] | last' "$BINDING_CONTEXT_PATH")
if [[ $last != null ]]; then
  echo "{\"op\": \"add\", \"path\": \"/keeper/lastEvent\", \"value\": $last}" >>"$VALUES_JSON_PATCH_PATH"
fi
