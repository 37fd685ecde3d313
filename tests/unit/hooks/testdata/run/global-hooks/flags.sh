#!/usr/bin/env bash
# A global hook: sets a global value and switches modules on and off through *Enabled flags.
set -euo pipefail

cat >> "$VALUES_JSON_PATCH_PATH" <<'OPS'
[{"op": "add", "path": "/global/discovered", "value": {"nodes": 3}},
 {"op": "add", "path": "/certManagerEnabled", "value": true}]
{"op": "add", "path": "/legacyEnabled", "value": "false"}
{"op": "remove", "path": "/demoEnabled"}
OPS
