#!/usr/bin/env bash
# beforeAll: runs before every converge of all modules; derives the base domain of the cluster
# from the global settings.
set -euo pipefail

if [[ ${1:-} == "--config" ]]; then
  echo '{"configVersion": "v1", "beforeAll": 1}'
  exit 0
fi

base=$(jq -r '.global | "\(.clusterName // "cluster").\(.domain // "local")"' "$VALUES_PATH")
echo "global beforeAll hook: base domain ${base}"
jq -nc --arg v "$base" '{op: "add", path: "/global/internal/baseDomain", value: $v}' \
  >>"$VALUES_JSON_PATCH_PATH"
