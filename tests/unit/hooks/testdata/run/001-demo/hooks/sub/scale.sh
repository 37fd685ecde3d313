#!/usr/bin/env bash
# A typical bash hook: reads values with jq and appends one JSON patch operation per line.
set -euo pipefail

replicas=$(jq '.demo.replicas' "$VALUES_PATH")
jq -cn --argjson r "$replicas" '{op: "add", path: "/demo/internal", value: {doubled: ($r * 2)}}' \
  >> "$VALUES_JSON_PATCH_PATH"
jq -cn '{op: "add", path: "/demo/internal/source", value: "scale.sh"}' >> "$VALUES_JSON_PATCH_PATH"
jq -cn --arg b "$(jq -r '.[0].binding' "$BINDING_CONTEXT_PATH")" \
  '{name: "demo_hook_runs", action: "add", value: 1, labels: {binding: $b}}' >> "$METRICS_PATH"
