#!/usr/bin/env bash
# afterHelm: stores a stamp the chart renders, so the first run is followed by exactly one more.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  echo '{"configVersion": "v1", "afterHelm": 1}'
  exit 0
fi
echo '{"op": "add", "path": "/afterHelm/stamp", "value": "stamped"}' >>"$VALUES_JSON_PATCH_PATH"
