#!/usr/bin/env bash
# Records what the hook sees into $OBSERVE_DIR, then writes the HOOK_* outputs it was given.
set -euo pipefail

{
  echo "args=$#"
  echo "cwd=$(pwd)"
  for var in BINDING_CONTEXT_PATH VALUES_PATH CONFIG_VALUES_PATH VALUES_JSON_PATCH_PATH \
             CONFIG_VALUES_JSON_PATCH_PATH METRICS_PATH KUBERNETES_PATCH_PATH \
             VALIDATING_RESPONSE_PATH ADMISSION_RESPONSE_PATH CONVERSION_RESPONSE_PATH \
             PYTHONHOME OPERATOR_MARKER; do
    echo "$var=${!var-unset}"
  done
  for var in VALUES_JSON_PATCH_PATH CONFIG_VALUES_JSON_PATCH_PATH METRICS_PATH KUBERNETES_PATCH_PATH; do
    echo "size_$var=$(wc -c < "${!var}")"
  done
  echo "first_binding=$(jq -r '.[0].binding' "$BINDING_CONTEXT_PATH")"
  echo "contexts=$(jq -r 'length' "$BINDING_CONTEXT_PATH")"
} > "$OBSERVE_DIR/observed"
cp "$BINDING_CONTEXT_PATH" "$OBSERVE_DIR/binding-context.json"
cp "$VALUES_PATH" "$OBSERVE_DIR/values.json"
cp "$CONFIG_VALUES_PATH" "$OBSERVE_DIR/config-values.json"

if [[ -n "${HOOK_VALUES_PATCH-}" ]]; then printf '%s' "$HOOK_VALUES_PATCH" > "$VALUES_JSON_PATCH_PATH"; fi
if [[ -n "${HOOK_CONFIG_PATCH-}" ]]; then printf '%s' "$HOOK_CONFIG_PATCH" > "$CONFIG_VALUES_JSON_PATCH_PATH"; fi
if [[ -n "${HOOK_METRICS-}" ]]; then printf '%s' "$HOOK_METRICS" > "$METRICS_PATH"; fi
if [[ -n "${HOOK_KUBE_PATCH-}" ]]; then printf '%s' "$HOOK_KUBE_PATCH" > "$KUBERNETES_PATCH_PATH"; fi
if [[ -n "${HOOK_STDERR-}" ]]; then printf '%s\n' "$HOOK_STDERR" >&2; fi
exit "${HOOK_EXIT:-0}"
