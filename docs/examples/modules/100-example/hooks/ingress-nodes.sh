#!/usr/bin/env bash
# Example module hook written with the bash framework (docs/hooks.md).
#
# Keeps the names of the Ready ingress nodes in .Values.example.internal.ingressNodes, so the
# chart can render something per ingress node, and exports their number as the metric
# example_ingress_nodes on /metrics/hooks. The kubernetes binding is in group `main`: every
# change of a watched Node runs the hook with one Group context holding the whole snapshot,
# and beforeHelm recomputes the list from the same snapshot before every Helm run.
#
# The operator image ships the framework as /shell_lib.sh. Elsewhere (tests, a checkout), point
# SHELL_LIB at operator/addon_operator/frameworks/shell_lib.sh.
source "${SHELL_LIB:-/shell_lib.sh}"

function __config__() {
  cat <<'YAML'
configVersion: v1
beforeHelm: 10
kubernetes:
  - name: ingress_nodes
    group: main
    apiVersion: v1
    kind: Node
    labelSelector:
      matchLabels:
        node-role.kubernetes.io/ingress: ""
    jqFilter: |
      {
        name: .metadata.name,
        ready: ([.status.conditions[]? | select(.type == "Ready" and .status == "True")] | length > 0)
      }
YAML
}

function example::store_ready_nodes() {
  local nodes
  nodes=$(context::jq -c '[(.snapshots.ingress_nodes // [])[].filterResult | select(.ready) | .name] | sort')
  values::set example.internal.ingressNodes "${nodes}"
  jq -nc --argjson nodes "${nodes}" \
    '{name: "example_ingress_nodes", group: "ingress_nodes", action: "set", value: ($nodes | length)}' \
    >>"${METRICS_PATH}"
}

function __on_before_helm() {
  example::store_ready_nodes
}

function __on_group::main() {
  example::store_ready_nodes
}

hook::run "$@"
