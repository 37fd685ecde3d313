#!/usr/bin/env bash
# $METRICS_PATH: set, add, observe, a group, then expire, one step per trigger value.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
- name: trigger
  kind: ConfigMap
  namespace: {nameSelector: {matchNames: [conf]}}
  nameSelector: {matchNames: [trigger-metrics]}
  jqFilter: .data.step
  executeHookOnSynchronization: false
CONFIG
  exit 0
fi
case $(jq -r '.[-1].filterResult' "$BINDING_CONTEXT_PATH") in
one)
  cat >"$METRICS_PATH" <<'JSON'
{"name": "conf_gauge", "action": "set", "value": 3, "labels": {"kind": "a"}}
{"name": "conf_counter", "action": "add", "value": 2}
{"name": "conf_counter", "action": "add", "value": 3}
{"name": "conf_seconds", "action": "observe", "value": 0.5, "buckets": [1, 2]}
{"name": "conf_grouped", "group": "grp", "action": "set", "value": 1, "labels": {"item": "x"}}
{"name": "conf_grouped", "group": "grp", "action": "set", "value": 1, "labels": {"item": "y"}}
JSON
  ;;
two)
  cat >"$METRICS_PATH" <<'JSON'
{"name": "conf_counter", "action": "add", "value": 1}
{"name": "conf_seconds", "action": "observe", "value": 1.5, "buckets": [1, 2]}
{"name": "conf_grouped", "group": "grp", "action": "set", "value": 2, "labels": {"item": "x"}}
JSON
  ;;
three)
  echo '{"action": "expire", "group": "grp"}' >"$METRICS_PATH"
  ;;
esac
