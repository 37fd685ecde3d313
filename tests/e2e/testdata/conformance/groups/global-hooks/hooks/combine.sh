#!/usr/bin/env bash
# Combining in the `combine` queue: a run that sees the object `slow` takes 3 seconds, so the
# events queued meanwhile reach the next run as one context array (consecutive contexts of the
# group `burst` compacted to the last one). Dumps every binding context it receives.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
- name: items
  kind: ConfigMap
  labelSelector: {matchLabels: {conf: combine}}
  jqFilter: .metadata.name
  keepFullObjectsInMemory: false
  queue: combine
- name: burst-a
  kind: ConfigMap
  labelSelector: {matchLabels: {conf: burst-a}}
  jqFilter: .metadata.name
  keepFullObjectsInMemory: false
  queue: combine
  group: burst
- name: burst-b
  kind: ConfigMap
  labelSelector: {matchLabels: {conf: burst-b}}
  jqFilter: .metadata.name
  keepFullObjectsInMemory: false
  queue: combine
  group: burst
CONFIG
  exit 0
fi
jq -c --arg at "$(date +%s.%N)" '{at: ($at | tonumber), contexts: .}' "$BINDING_CONTEXT_PATH" \
  >>"$CONFORMANCE_DUMP/combine.jsonl"
if jq -e 'any(.[]; .filterResult == "slow")' "$BINDING_CONTEXT_PATH" >/dev/null; then
  sleep 3
fi
