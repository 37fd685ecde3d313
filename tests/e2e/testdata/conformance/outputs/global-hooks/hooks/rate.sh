#!/usr/bin/env bash
# settings: at most one run per 2 seconds; events piling up meanwhile are combined.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
settings: {executionMinInterval: 2s, executionBurst: 1}
kubernetes:
- name: values
  kind: ConfigMap
  labelSelector: {matchLabels: {conf: rate}}
  jqFilter: .data.v
  keepFullObjectsInMemory: false
  queue: rate
CONFIG
  exit 0
fi
jq -c --arg at "$(date +%s.%N)" '{at: ($at | tonumber), contexts: .}' "$BINDING_CONTEXT_PATH" \
  >>"$CONFORMANCE_DUMP/rate.jsonl"
