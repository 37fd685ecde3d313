"""Kubernetes patch operations applied by the real `KubeClient` against the sandbox API server:
every operation, the status subresource, kind resolution by short name, a foreground delete
held by a finalizer, and the first failure stopping the sequence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from addon_operator.kube import KubeClient, NotFound, Resource
from addon_operator.kubepatch import KubePatchError, apply_operations, parse_operations
from kube_sandbox import SandboxServer
from kube_support import CONFIGMAPS, install_crd, open_crd, temporary_namespace, unique

GROUP = "kubepatch.test"
WIDGETS = Resource(GROUP, "v1", "widgets", False, "Widget", "widget", ("wdg",))


@pytest.fixture(scope="module")
def kube(sandbox: SandboxServer) -> Iterator[KubeClient]:
    client = KubeClient.from_kubeconfig(sandbox.kubeconfig_path, sleep=lambda _: None)
    install_crd(client, open_crd(WIDGETS))
    yield client
    client.close()


@pytest.fixture
def namespace(kube: KubeClient) -> Iterator[str]:
    with temporary_namespace(kube, "kp") as name:
        yield name


def apply(kube: KubeClient, *documents: dict[str, Any], sleep: Any = None) -> None:
    text = "\n".join(json.dumps(document) for document in documents)
    apply_operations(parse_operations(text), kube, sleep=sleep or (lambda _: None))


def configmap(name: str, namespace: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace}, "data": dict(data)}


def widget(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": name},
            "spec": spec}


def test_create_family(kube: KubeClient, namespace: str) -> None:
    apply(kube,
          {"operation": "Create", "object": configmap("a", namespace, v="1")},
          {"operation": "CreateIfNotExists", "object": configmap("a", namespace, v="ignored")},
          {"operation": "CreateOrUpdate", "object": configmap("b", namespace, v="1")},
          {"operation": "CreateOrUpdate", "object": configmap("b", namespace, v="2")})
    assert kube.get(CONFIGMAPS, "a", namespace=namespace)["data"] == {"v": "1"}
    assert kube.get(CONFIGMAPS, "b", namespace=namespace)["data"] == {"v": "2"}
    with pytest.raises(KubePatchError, match=rf"operation 1 \(Create ConfigMap {namespace}/a\):"
                                             r".*409 AlreadyExists"):
        apply(kube, {"operation": "Create", "object": configmap("a", namespace)})


def test_yaml_stream_with_merge_json_and_jq_patches(kube: KubeClient, namespace: str) -> None:
    kube.create(CONFIGMAPS, configmap("cfg", namespace, keep="yes", drop="x"), namespace=namespace)
    text = f"""
operation: MergePatch
kind: cm
namespace: {namespace}
name: cfg
mergePatch: |
  data:
    merged: "1"
---
operation: JSONPatch
apiVersion: v1
kind: configmaps
namespace: {namespace}
name: cfg
jsonPatch: [{{"op": "remove", "path": "/data/drop"}}]
---
operation: JQPatch
kind: ConfigMap
namespace: {namespace}
name: cfg
jqFilter: '.data.count = ((.data | length) | tostring)'
"""
    apply_operations(parse_operations(text), kube)
    assert kube.get(CONFIGMAPS, "cfg", namespace=namespace)["data"] == {
        "keep": "yes", "merged": "1", "count": "2"}


def test_status_subresource_patches(kube: KubeClient) -> None:
    name = unique("w")
    kube.create(WIDGETS, widget(name, size=1))
    apply(kube,
          {"operation": "MergePatch", "kind": "Widget", "name": name, "subresource": "status",
           "mergePatch": {"status": {"phase": "Ready"}}},
          {"operation": "JQPatch", "kind": "wdg", "name": name, "subresource": "/status",
           "jqFilter": ".status.count = 1"},
          {"operation": "JSONPatch", "kind": "widgets", "name": name, "subresource": "status",
           "jsonPatch": [{"op": "add", "path": "/status/extra", "value": True}]},
          {"operation": "MergePatch", "kind": "Widget", "name": name,
           "mergePatch": {"spec": {"size": 2}, "status": {"phase": "Ignored"}}})
    current = kube.get(WIDGETS, name)
    assert current["status"] == {"phase": "Ready", "count": 1, "extra": True}
    assert current["spec"] == {"size": 2}  # the main resource ignores status writes
    kube.delete(WIDGETS, name)


def test_ignore_missing_object_against_the_api(kube: KubeClient) -> None:
    missing = unique("missing")
    apply(kube, {"operation": "MergePatch", "kind": "Widget", "name": missing,
                 "ignoreMissingObject": True, "mergePatch": {"spec": {"a": 1}}})
    with pytest.raises(KubePatchError, match=rf"operation 1 \(JQPatch Widget {missing}\):"
                                             r".*404 NotFound"):
        apply(kube, {"operation": "JQPatch", "kind": "Widget", "name": missing,
                     "jqFilter": "."})


def test_delete_family(kube: KubeClient, namespace: str) -> None:
    for name in ("a", "b", "c"):
        kube.create(CONFIGMAPS, configmap(name, namespace), namespace=namespace)
    apply(kube,
          {"operation": "Delete", "kind": "ConfigMap", "namespace": namespace, "name": "a"},
          {"operation": "DeleteInBackground", "kind": "ConfigMap", "namespace": namespace,
           "name": "b"},
          {"operation": "DeleteNonCascading", "kind": "ConfigMap", "namespace": namespace,
           "name": "c"},
          {"operation": "Delete", "kind": "ConfigMap", "namespace": namespace,
           "name": "never-existed"})
    assert kube.list(CONFIGMAPS, namespace=namespace).items == []


def test_foreground_delete_waits_for_finalizers(kube: KubeClient) -> None:
    name = unique("held")
    kube.create(WIDGETS, {**widget(name), "metadata": {"name": name,
                                                       "finalizers": ["example.io/hold"]}})
    sleeps: list[float] = []

    def release(seconds: float) -> None:
        sleeps.append(seconds)
        kube.patch_merge(WIDGETS, name, {"metadata": {"finalizers": None}})

    apply(kube, {"operation": "Delete", "kind": "Widget", "name": name}, sleep=release)
    assert sleeps == [1.0]
    with pytest.raises(NotFound):
        kube.get(WIDGETS, name)


def test_the_first_failure_stops_the_sequence(kube: KubeClient, namespace: str) -> None:
    with pytest.raises(KubePatchError) as caught:
        apply(kube,
              {"operation": "Create", "object": configmap("first", namespace)},
              {"operation": "MergePatch", "kind": "ConfigMap", "namespace": namespace,
               "name": "absent", "mergePatch": {"data": {"x": "1"}}},
              {"operation": "Create", "object": configmap("third", namespace)})
    assert str(caught.value).startswith(f"operation 2 (MergePatch ConfigMap {namespace}/absent):")
    names = [item["metadata"]["name"] for item in kube.list(CONFIGMAPS, namespace=namespace).items]
    assert names == ["first"]
