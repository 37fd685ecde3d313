#!/usr/bin/env bash
# beforeHelm: fails after writing twelve lines to stderr; the last ones say why.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  echo '{"configVersion": "v1", "beforeHelm": 1}'
  exit 0
fi
for step in $(seq 1 11); do
  echo "noisy step $step of 12: fine" >&2
done
echo "noisy step 12 of 12: the database refused the connection" >&2
exit 1
