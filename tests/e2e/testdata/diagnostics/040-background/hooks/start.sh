#!/usr/bin/env bash
# beforeHelm: starts a background process and exits 0 at once; the background process's pid
# goes to $E2E_PID_DIR/background-child.pid.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  echo '{"configVersion": "v1", "beforeHelm": 1}'
  exit 0
fi
sleep 300 &
echo "$!" > "$E2E_PID_DIR/background-child.pid.tmp"
mv "$E2E_PID_DIR/background-child.pid.tmp" "$E2E_PID_DIR/background-child.pid"
echo "started the background process" >&2
