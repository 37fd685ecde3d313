#!/usr/bin/env bash
# beforeHelm: derives `internal.derived` from `settings.value`. It announces each run in
# $GATE_DIR/started-<value> and, while $GATE_DIR/hold exists, waits (bounded) before it
# answers: the tests change the spec while it waits. With $GATE_DIR/slow it takes 0.5 s.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  echo '{"configVersion":"v1","beforeHelm":1}'
  exit 0
fi
value=$(jq -r ".derive.value" "$VALUES_PATH")
touch "$GATE_DIR/started-$value"
for _ in $(seq 600); do
  [[ -e $GATE_DIR/hold ]] || break
  sleep 0.05
done
if [[ -e $GATE_DIR/slow ]]; then sleep 0.5; fi
echo "{\"op\": \"add\", \"path\": \"/derive/internal/derived\", \"value\": \"$value\"}" \
  >>"$VALUES_JSON_PATCH_PATH"
