#!/usr/bin/env bash
# $KUBERNETES_PATCH_PATH: step "apply" writes every operation as a JSON stream; step "fail"
# writes a YAML stream whose second operation patches a missing object.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
- name: trigger
  kind: ConfigMap
  namespace: {nameSelector: {matchNames: [conf]}}
  nameSelector: {matchNames: [trigger-patches]}
  jqFilter: .data.step
  executeHookOnSynchronization: false
CONFIG
  exit 0
fi
step=$(jq -r '.[-1].filterResult' "$BINDING_CONTEXT_PATH")
cm() { echo "\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"namespace\": \"conf\", \"name\": \"$1\""; }
if [[ $step == apply ]]; then
  cat >"$KUBERNETES_PATCH_PATH" <<JSON
{"operation": "Create", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "created", "namespace": "conf"}, "data": {"a": "1"}}}
{"operation": "CreateIfNotExists", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "created", "namespace": "conf"}, "data": {"a": "2"}}}
{"operation": "CreateIfNotExists", "object": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-yaml-string, namespace: conf}\ndata: {a: '3'}\n"}
{"operation": "CreateOrUpdate", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "upserted", "namespace": "conf"}, "data": {"u": "new"}}}
{"operation": "CreateOrUpdate", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "existing", "namespace": "conf"}, "data": {"x": "new"}}}
{"operation": "Delete", $(cm del-foreground)}
{"operation": "DeleteInBackground", $(cm del-background)}
{"operation": "DeleteNonCascading", $(cm del-orphan)}
{"operation": "JQPatch", $(cm jq), "jqFilter": ".data.count = \"2\""}
{"operation": "MergePatch", $(cm merge), "mergePatch": {"data": {"m": "merged"}}}
{"operation": "JSONPatch", $(cm json), "jsonPatch": [{"op": "add", "path": "/data/j", "value": "added"}]}
{"operation": "MergePatch", "apiVersion": "conformance.example.io/v1", "kind": "Widget", "namespace": "conf", "name": "w1", "subresource": "status", "mergePatch": {"status": {"phase": "Patched"}, "spec": {"size": 99}}}
{"operation": "MergePatch", $(cm missing), "ignoreMissingObject": true, "mergePatch": {"data": {"a": "b"}}}
{"operation": "JSONPatch", $(cm missing), "ignoreMissingObject": true, "jsonPatch": [{"op": "add", "path": "/data/a", "value": "b"}]}
{"operation": "JQPatch", $(cm missing), "ignoreMissingObject": true, "jqFilter": ".data.a = \"b\""}
JSON
elif [[ $step == fail ]]; then
  cat >"$KUBERNETES_PATCH_PATH" <<'YAML'
operation: CreateIfNotExists
object:
  apiVersion: v1
  kind: ConfigMap
  metadata: {name: before-failure, namespace: conf}
---
operation: MergePatch
apiVersion: v1
kind: ConfigMap
namespace: conf
name: nope
mergePatch:
  data: {a: b}
YAML
fi
