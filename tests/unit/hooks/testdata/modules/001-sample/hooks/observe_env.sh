#!/usr/bin/env bash
# Prints a v1 module config and records what the --config run saw in $OBSERVE_FILE.
set -euo pipefail
if [[ "${1:-}" == "--config" ]]; then
  {
    echo "args=$*"
    echo "cwd=$(pwd)"
    echo "binding_context=${BINDING_CONTEXT_PATH-unset}"
    echo "values=${VALUES_PATH-unset}"
    echo "marker=${OBSERVE_MARKER-unset}"
  } > "$OBSERVE_FILE"
  cat <<'YAML'
configVersion: v1
beforeHelm: 10
schedule:
- name: every-minute
  crontab: "* * * * *"
kubernetes:
- name: pods
  kind: Pod
  jqFilter: .metadata.labels
YAML
  exit 0
fi
echo "not a config run" >&2
exit 1
