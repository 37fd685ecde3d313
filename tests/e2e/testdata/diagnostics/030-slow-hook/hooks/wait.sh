#!/usr/bin/env bash
# beforeHelm: never finishes (the test's hook timeout kills it); its child's pid goes to
# $E2E_PID_DIR/slow-child.pid.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  echo '{"configVersion": "v1", "beforeHelm": 1}'
  exit 0
fi
sleep 300 &
echo "$!" > "$E2E_PID_DIR/slow-child.pid.tmp"
mv "$E2E_PID_DIR/slow-child.pid.tmp" "$E2E_PID_DIR/slow-child.pid"
echo "waiting for the database" >&2
wait
