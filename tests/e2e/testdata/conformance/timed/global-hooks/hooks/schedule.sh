#!/usr/bin/env bash
# Schedule contexts: `every` (@every) with a snapshot, `bare` (6-field crontab) without, and
# `grouped` in the group of the snapshot-only binding `cms` (which never runs the hook itself).
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
- name: cms
  kind: ConfigMap
  labelSelector: {matchLabels: {conf: sched}}
  jqFilter: .metadata.name
  keepFullObjectsInMemory: false
  executeHookOnSynchronization: false
  executeHookOnEvent: []
  group: sg
schedule:
- name: every
  crontab: "@every 1s"
  includeSnapshotsFrom: [cms]
- name: bare
  crontab: "* * * * * *"
- name: grouped
  crontab: "*/1 * * * * *"
  group: sg
CONFIG
  exit 0
fi
jq -c --arg at "$(date +%s.%N)" '{at: ($at | tonumber), contexts: .}' "$BINDING_CONTEXT_PATH" \
  >>"$CONFORMANCE_DUMP/schedule.jsonl"
