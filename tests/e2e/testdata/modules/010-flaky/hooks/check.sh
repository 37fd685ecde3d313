#!/usr/bin/env bash
# beforeHelm: fails until the module's settings say `healthy: true`.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  echo '{"configVersion": "v1", "beforeHelm": 1}'
  exit 0
fi
if [[ $(jq -r '.flaky.healthy' "$VALUES_PATH") != "true" ]]; then
  echo "boom: the flaky module is not healthy" >&2
  exit 1
fi
