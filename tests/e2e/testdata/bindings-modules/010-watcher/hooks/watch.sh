#!/usr/bin/env bash
# kubernetes binding: labelled ConfigMaps of the addons namespace; an Event stores the latest
# event as a value (which re-runs the module); beforeHelm renders the snapshot's names for the
# chart; schedule: a tick metric every 2 seconds.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
beforeHelm: 1
kubernetes:
- name: configmaps
  apiVersion: v1
  kind: ConfigMap
  namespace:
    nameSelector:
      matchNames: [addons]
  labelSelector:
    matchLabels:
      watch-me: "yes"
  jqFilter: .data
schedule:
- name: tick
  crontab: "*/2 * * * * *"
CONFIG
  exit 0
fi
ctx="$BINDING_CONTEXT_PATH"
binding=$(jq -r '.[-1].binding' "$ctx")
type=$(jq -r '.[-1].type // "lifecycle"' "$ctx")
if [[ $binding == beforeHelm ]]; then
  names=$(jq -c '[.[-1].snapshots.configmaps[].object.metadata.name] | sort | join(",")' "$ctx")
  echo "{\"op\": \"add\", \"path\": \"/watcher/names\", \"value\": $names}" >>"$VALUES_JSON_PATCH_PATH"
elif [[ $type == Event ]]; then
  last=$(jq -c '[.[] | "\(.watchEvent):\(.object.metadata.name)"] | last' "$ctx")
  echo "{\"op\": \"add\", \"path\": \"/watcher/lastEvent\", \"value\": $last}" >>"$VALUES_JSON_PATCH_PATH"
elif [[ $type == Schedule ]]; then
  echo '{"name": "watcher_ticks", "action": "set", "value": 1}' >>"$METRICS_PATH"
fi
