"""A kubernetes binding whose kind does not exist yet: the problem shows in the hook's status
entry, the operator keeps running, and the binding starts once the kind's CRD appears (issue:
hook compatibility, items 1 and 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client

from e2e_support import Cluster, hook

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox_only(reason="the hook dumps into a local dir")]

HOOK = """#!/usr/bin/env bash
if [[ "$1" == "--config" ]]; then
  echo '{"configVersion":"v1","kubernetes":[{"name":"widgets","apiVersion":"example.com/v1",
        "kind":"Widget","queue":"widgets","jqFilter":".metadata.name",
        "waitForSynchronization":false}]}'
  exit 0
fi
jq -c '.[] | {binding, type, names: [(.objects // [])[].filterResult], object: .filterResult}' \\
  "$BINDING_CONTEXT_PATH" >> "$WIDGET_DUMP"
"""

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Cluster",
             "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                 "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]},
}


def runs(dump: Path) -> list[dict]:
    return [json.loads(line) for line in dump.read_text().splitlines()] if dump.exists() else []


def test_a_binding_to_a_missing_kind_is_reported_then_picked_up(cluster: Cluster,
                                                                tmp_path: Path) -> None:
    global_hooks = tmp_path / "global-hooks"
    (global_hooks / "hooks").mkdir(parents=True)
    script = global_hooks / "hooks" / "widgets.sh"
    script.write_text(HOOK)
    script.chmod(0o755)
    (tmp_path / "modules").mkdir()
    dump = tmp_path / "widgets.jsonl"
    operator = cluster.operator(modules_dir=tmp_path / "modules", global_hooks_dir=global_hooks,
                                WIDGET_DUMP=str(dump))
    operator.wait_ready()

    def message() -> str:
        return hook(cluster.global_config(), "widgets.sh").get("message", "")

    cluster.wait("the missing kind reported in the hook status",
                 lambda: "binding widgets:" in message() and "Widget" in message())
    assert runs(dump) == [], "nothing ran for a kind that does not exist"
    assert cluster.global_config()["status"]["phase"] == "Ready", "the operator keeps working"

    client.ApiextensionsV1Api(cluster.api_client).create_custom_resource_definition(CRD)
    cluster.custom.create_cluster_custom_object(
        "example.com", "v1", "widgets", {"apiVersion": "example.com/v1", "kind": "Widget",
                                         "metadata": {"name": "first"}})
    cluster.wait("the binding starts once the CRD exists",
                 lambda: any(r["type"] == "Synchronization" for r in runs(dump)), timeout=60)
    cluster.wait("the problem is cleared from the status", lambda: "binding" not in message())
    cluster.custom.create_cluster_custom_object(
        "example.com", "v1", "widgets", {"apiVersion": "example.com/v1", "kind": "Widget",
                                         "metadata": {"name": "second"}})
    cluster.wait("an Event for the new object",
                 lambda: {"binding": "widgets", "type": "Event", "names": [], "object": "second"}
                 in runs(dump))
    sync = next(r for r in runs(dump) if r["type"] == "Synchronization")
    assert sync["names"] in (["first"], []), sync
