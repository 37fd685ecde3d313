#!/usr/bin/env bash
# allowFailure: fails on the value "bad"; the failure is recorded, not retried.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
- name: values
  kind: ConfigMap
  labelSelector: {matchLabels: {conf: allowed}}
  jqFilter: .data.v
  keepFullObjectsInMemory: false
  allowFailure: true
  queue: allowed
CONFIG
  exit 0
fi
jq -c --arg at "$(date +%s.%N)" '{at: ($at | tonumber), contexts: .}' "$BINDING_CONTEXT_PATH" \
  >>"$CONFORMANCE_DUMP/allowed.jsonl"
if jq -e 'any(.[]; .filterResult == "bad")' "$BINDING_CONTEXT_PATH" >/dev/null; then
  echo "refusing the bad value" >&2
  exit 1
fi
