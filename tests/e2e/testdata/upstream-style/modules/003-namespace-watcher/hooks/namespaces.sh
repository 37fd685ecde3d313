#!/usr/bin/env bash
# Namespaces labelled watched=yes: their sorted names become a value the chart renders. Every
# context of the run is handled by reading the snapshot, so combined runs need no loop.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
- name: namespaces
  apiVersion: v1
  kind: Namespace
  labelSelector: {matchLabels: {watched: "yes"}}
  jqFilter: .metadata.name
  keepFullObjectsInMemory: false
  includeSnapshotsFrom: [namespaces]
CONFIG
  exit 0
fi
jq -c '{op: "add", path: "/namespaceWatcher/namespaces",
        value: ([.[-1].snapshots.namespaces[].filterResult] | sort)}' \
  "$BINDING_CONTEXT_PATH" >>"$VALUES_JSON_PATCH_PATH"
