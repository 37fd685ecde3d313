#!/usr/bin/env bash
# kubernetes binding: an Event of the ConfigMap vault-trigger makes the hook store a mistyped
# secret-like value (a number where openapi/values.yaml wants a string), a values patch that
# breaks the values schema. The value is written only here, never in a cluster object.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
- name: trigger
  apiVersion: v1
  kind: ConfigMap
  namespace:
    nameSelector:
      matchNames: [addons]
  nameSelector:
    matchNames: [vault-trigger]
  executeHookOnSynchronization: false
CONFIG
  exit 0
fi
if jq -e 'any(.[]; .type == "Event")' "$BINDING_CONTEXT_PATH" >/dev/null; then
  echo '{"op": "add", "path": "/vault/internal/token", "value": 987654321123}' >>"$VALUES_JSON_PATCH_PATH"
fi
