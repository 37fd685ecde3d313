#!/usr/bin/env bash
# Kubernetes bindings without jqFilter: full objects, no filterResult; `empty` never matches
# anything, so its Synchronization has `objects: []`. Dumps every binding context it receives.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
- name: full
  apiVersion: v1
  kind: ConfigMap
  namespace: {nameSelector: {matchNames: [conf]}}
  labelSelector: {matchLabels: {conf: kube}}
- name: empty
  kind: secrets
  namespace: {nameSelector: {matchNames: [conf]}}
  labelSelector: {matchLabels: {conf: none}}
CONFIG
  exit 0
fi
jq -c --arg at "$(date +%s.%N)" '{at: ($at | tonumber), contexts: .}' "$BINDING_CONTEXT_PATH" \
  >>"$CONFORMANCE_DUMP/full.jsonl"
