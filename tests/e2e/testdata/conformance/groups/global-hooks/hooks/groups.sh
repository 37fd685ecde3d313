#!/usr/bin/env bash
# Groups and snapshots: `group-a` and `group-b` share the group `pair` (Group contexts carrying
# only both snapshots); `watcher` includes `group-b` and itself. Objects from all namespaces,
# so snapshots are sorted by namespace, then name. Dumps every binding context it receives.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
- name: group-a
  kind: ConfigMap
  labelSelector: {matchLabels: {conf: group-a}}
  jqFilter: .metadata.name
  group: pair
- name: group-b
  kind: ConfigMap
  labelSelector: {matchLabels: {conf: group-b}}
  jqFilter: .data
  keepFullObjectsInMemory: false
  group: pair
- name: watcher
  kind: ConfigMap
  labelSelector: {matchLabels: {conf: snap}}
  jqFilter: '.metadata.namespace + "/" + .metadata.name'
  keepFullObjectsInMemory: false
  includeSnapshotsFrom: [group-b, watcher]
CONFIG
  exit 0
fi
jq -c --arg at "$(date +%s.%N)" '{at: ($at | tonumber), contexts: .}' "$BINDING_CONTEXT_PATH" \
  >>"$CONFORMANCE_DUMP/groups.jsonl"
