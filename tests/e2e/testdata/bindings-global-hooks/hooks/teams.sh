#!/usr/bin/env bash
# Global kubernetes binding: the names of Namespaces labelled `team` become `global.teams`.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
- name: namespaces
  apiVersion: v1
  kind: Namespace
  labelSelector:
    matchExpressions:
    - {key: team, operator: Exists}
  jqFilter: .metadata.name
  includeSnapshotsFrom: [namespaces]
CONFIG
  exit 0
fi
jq -c '{op: "add", path: "/global/teams", value: ([.[-1].snapshots.namespaces[].filterResult] | sort)}' \
  "$BINDING_CONTEXT_PATH" >>"$VALUES_JSON_PATCH_PATH"
