#!/usr/bin/env bash
# kubernetes binding on labelled ConfigMaps: appends the name of every Event's object to
# $GATE_DIR/trace, in the order of the binding contexts. While $GATE_DIR/fail-once exists,
# a run that sees `cm-1` removes it and fails, recording nothing: the run is retried.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
- name: configmaps
  apiVersion: v1
  kind: ConfigMap
  namespace:
    nameSelector:
      matchNames: [addons]
  labelSelector:
    matchLabels:
      ordered: "yes"
  executeHookOnSynchronization: false
CONFIG
  exit 0
fi
names=$(jq -r '.[] | select(.type == "Event") | .object.metadata.name' "$BINDING_CONTEXT_PATH")
if [[ -e $GATE_DIR/fail-once ]] && grep -qx cm-1 <<<"$names"; then
  rm -f "$GATE_DIR/fail-once"
  echo "failing once on purpose" >&2
  exit 1
fi
if [[ -n $names ]]; then echo "$names" >>"$GATE_DIR/trace"; fi
