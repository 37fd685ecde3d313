#!/usr/bin/env bash
# onStartup: runs once when the operator starts; records that it ran.
set -euo pipefail

if [[ ${1:-} == "--config" ]]; then
  echo '{"configVersion": "v1", "onStartup": 1}'
  exit 0
fi

echo "global startup hook: operator starting"
echo '{"op": "add", "path": "/global/internal/startupHookRan", "value": true}' >>"$VALUES_JSON_PATCH_PATH"
