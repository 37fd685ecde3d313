#!/usr/bin/env bash
# beforeHelm: counts the merged params and stores the count as a values patch for the chart.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  echo '{"configVersion": "v1", "beforeHelm": 10}'
  exit 0
fi
jq -c '{op: "add", path: "/valuesMerge/internal/paramCount", value: (.valuesMerge.params | length)}' \
  "$VALUES_PATH" >>"$VALUES_JSON_PATCH_PATH"
