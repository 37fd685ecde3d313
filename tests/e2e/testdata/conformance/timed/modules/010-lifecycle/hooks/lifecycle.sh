#!/usr/bin/env bash
# Module lifecycle contexts: onStartup without snapshots, the Helm bindings with `snapshots: {}`
# (the hook has no kubernetes bindings). Dumps every binding context it receives.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
onStartup: 1
beforeHelm: 1
afterHelm: 1
beforeDeleteHelm: 1
afterDeleteHelm: 1
CONFIG
  exit 0
fi
jq -c --arg at "$(date +%s.%N)" '{at: ($at | tonumber), contexts: .}' "$BINDING_CONTEXT_PATH" \
  >>"$CONFORMANCE_DUMP/module-lifecycle.jsonl"
