#!/usr/bin/env bash
# onStartup and beforeHelm: logs the binding and records it as a values patch.
set -euo pipefail
source "$(dirname "$0")/lib/log.sh"

if [[ ${1:-} == "--config" ]]; then
  echo '{"configVersion": "v1", "onStartup": 5, "beforeHelm": 5}'
  exit 0
fi

binding=$(jq -r '.[-1].binding' "$BINDING_CONTEXT_PATH")
log "ran for ${binding}"
jq -nc --arg b "$binding" '{op: "add", path: "/hooksOnly/internal/lastBinding", value: $b}' \
  >>"$VALUES_JSON_PATCH_PATH"
