#!/usr/bin/env bash
# One hook for three module lifecycle bindings; it tells them apart by `.[0].binding`.
if [[ $1 == "--config" ]]; then
  cat <<CONFIG
{"configVersion": "v1", "beforeHelm": 1, "afterHelm": 1, "afterDeleteHelm": 1}
CONFIG
else
  binding=$(jq -r '.[0].binding' "$BINDING_CONTEXT_PATH")
  echo "Run from ${binding}"
  if [[ -n ${CONFORMANCE_DUMP:-} ]]; then
    echo "$binding" >>"$CONFORMANCE_DUMP/sysctl-tuner.log"
  fi
fi
