#!/usr/bin/env bash
# beforeHelm: builds the greeting from the module settings and the global cluster name, and
# stores it as an in-memory values patch that the chart reads.
set -euo pipefail

if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
beforeHelm: 10
CONFIG
  exit 0
fi

greeting=$(jq -r '
  (.global.clusterName // "cluster") as $cluster
  | .patchedConfig as $m
  | [range($m.repeat)] | map("\($m.greeting), \($cluster)!") | join(" ")' "$VALUES_PATH")
echo "generate-greeting: ${greeting}"
jq -nc --arg value "$greeting" \
  '{op: "add", path: "/patchedConfig/internal/greeting", value: $value}' >>"$VALUES_JSON_PATCH_PATH"
