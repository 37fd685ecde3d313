#!/usr/bin/env bash
# A legacy (v0) hook: no configVersion, onKubernetesEvent with v0 event names.
cat <<'YAML'
onStartup: 1
beforeDeleteHelm: 2
onKubernetesEvent:
- kind: namespace
  event: [add, delete]
  objectName: default
YAML
