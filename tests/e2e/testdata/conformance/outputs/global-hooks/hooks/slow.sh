#!/usr/bin/env bash
# A slow hook in the main queue: an Event run takes 4 seconds.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
- name: slow
  kind: ConfigMap
  labelSelector: {matchLabels: {conf: slow}}
  executeHookOnSynchronization: false
CONFIG
  exit 0
fi
jq -c --arg at "$(date +%s.%N)" '{at: ($at | tonumber), contexts: .}' "$BINDING_CONTEXT_PATH" \
  >>"$CONFORMANCE_DUMP/slow.jsonl"
sleep 4
date +%s.%N >"$CONFORMANCE_DUMP/slow.done"
