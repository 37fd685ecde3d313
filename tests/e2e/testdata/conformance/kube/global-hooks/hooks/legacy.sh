#!/usr/bin/env bash
# A v0 hook (no configVersion): onStartup, and onKubernetesEvent for add and delete only.
# v0 hooks get no Synchronization run and v0-shaped contexts.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
{"onStartup": 1,
 "onKubernetesEvent": [{"kind": "ConfigMap", "event": ["add", "delete"],
                        "selector": {"matchLabels": {"conf": "kube"}},
                        "namespaceSelector": {"matchNames": ["conf"]}}]}
CONFIG
  exit 0
fi
jq -c --arg at "$(date +%s.%N)" '{at: ($at | tonumber), contexts: .}' "$BINDING_CONTEXT_PATH" \
  >>"$CONFORMANCE_DUMP/legacy.jsonl"
