#!/usr/bin/env bash
# Watch resume and relist: every event must reach the hook exactly once.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
- name: objects
  kind: ConfigMap
  labelSelector: {matchLabels: {conf: resume}}
  jqFilter: '.metadata.name + "=" + .data.v'
  keepFullObjectsInMemory: false
  queue: resume
CONFIG
  exit 0
fi
jq -c --arg at "$(date +%s.%N)" '{at: ($at | tonumber), contexts: .}' "$BINDING_CONTEXT_PATH" \
  >>"$CONFORMANCE_DUMP/resume.jsonl"
