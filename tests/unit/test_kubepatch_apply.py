"""Applying kubernetes patch operations through a fake of OUR KubeClient interface: what each
operation calls, conflict retries, ignoreMissingObject, the foreground-delete wait, scope checks,
and that the first failure stops the sequence naming the operation."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from addon_operator.kube import Conflict, KubeError, NotFound, Resource
from addon_operator.kube.resources import match
from addon_operator.kubepatch import KubePatchError, apply_operations, parse_operations

CONFIGMAPS = Resource("", "v1", "configmaps", True, "ConfigMap", "configmap", ("cm",))
NAMESPACES = Resource("", "v1", "namespaces", False, "Namespace", "namespace", ("ns",))
GADGETS = Resource("example.io", "v1", "gadgets", False, "Gadget", "gadget")

Key = tuple[str, str, str]


class FakeKube:
    """An in-memory stand-in for `KubeClient`: objects by (plural, namespace, name), integer
    resourceVersions, and a log of the write calls."""

    def __init__(self) -> None:
        self.objects: dict[Key, dict[str, Any]] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.conflicts_on_update = 0      # the next N updates fail with a stale version
        self.stuck: set[Key] = set()      # deleted objects that stay (finalizers)
        self.version = 0

    def resolve_kind(self, api_version: str | None, kind_or_plural: str) -> Resource:
        known = [r for r in (CONFIGMAPS, NAMESPACES, GADGETS)
                 if api_version in (None, r.api_version)]
        found = match(known, kind_or_plural)
        if found is not None:
            return found
        raise NotFound(404, "NotFound", f"no resource type {kind_or_plural!r}", what="discovery")

    def put(self, resource: Resource, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        self._store(resource, meta.get("namespace"), copy.deepcopy(obj))

    def _key(self, resource: Resource, name: str, namespace: str | None) -> Key:
        return resource.plural, namespace or "", name

    def _store(self, resource: Resource, namespace: str | None, obj: dict[str, Any]
               ) -> dict[str, Any]:
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)
        self.objects[self._key(resource, obj["metadata"]["name"], namespace)] = obj
        return copy.deepcopy(obj)

    def get(self, resource: Resource, name: str, *, namespace: str | None = None
            ) -> dict[str, Any]:
        key = self._key(resource, name, namespace)
        if key not in self.objects:
            raise NotFound(404, "NotFound", f'"{name}" not found', what=resource.describe(name))
        return copy.deepcopy(self.objects[key])

    def create(self, resource: Resource, obj: dict[str, Any], *, namespace: str | None = None
               ) -> dict[str, Any]:
        self.calls.append(("create", resource.plural, namespace, obj["metadata"]["name"]))
        if self._key(resource, obj["metadata"]["name"], namespace) in self.objects:
            raise Conflict(409, "AlreadyExists", "already exists", what=resource.plural)
        return self._store(resource, namespace, copy.deepcopy(obj))

    def update(self, resource: Resource, obj: dict[str, Any], *, namespace: str | None = None,
               subresource: str | None = None) -> dict[str, Any]:
        name = obj["metadata"]["name"]
        self.calls.append(("update", resource.plural, namespace, name, subresource))
        current = self.get(resource, name, namespace=namespace)
        if self.conflicts_on_update:
            self.conflicts_on_update -= 1
            self.put(resource, current)  # someone else wrote in between
            raise Conflict(409, "Conflict", "the object has been modified", what=name)
        if obj["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            raise Conflict(409, "Conflict", "stale resourceVersion", what=name)
        return self._store(resource, namespace, copy.deepcopy(obj))

    def patch_merge(self, resource: Resource, name: str, patch: dict[str, Any], *,
                    namespace: str | None = None, subresource: str | None = None
                    ) -> dict[str, Any]:
        self.calls.append(("patch_merge", resource.plural, namespace, name, subresource, patch))
        current = self.get(resource, name, namespace=namespace)
        return self._store(resource, namespace, merge(current, patch))

    def patch_json(self, resource: Resource, name: str, operations: list[dict[str, Any]], *,
                   namespace: str | None = None, subresource: str | None = None
                   ) -> dict[str, Any]:
        self.calls.append(("patch_json", resource.plural, namespace, name, subresource,
                           operations))
        return self.get(resource, name, namespace=namespace)

    def delete(self, resource: Resource, name: str, *, namespace: str | None = None,
               ignore_not_found: bool = False, propagation_policy: str | None = None
               ) -> dict[str, Any] | None:
        self.calls.append(("delete", resource.plural, namespace, name, propagation_policy))
        key = self._key(resource, name, namespace)
        if key not in self.objects:
            if ignore_not_found:
                return None
            raise NotFound(404, "NotFound", "gone", what=name)
        obj = self.objects[key] if key in self.stuck else self.objects.pop(key)
        return copy.deepcopy(obj)


def merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def configmap(name: str, namespace: str = "ns", **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace}, "data": dict(data)}


def run(kube: FakeKube, *documents: dict[str, Any], sleeps: list[float] | None = None) -> None:
    text = "\n".join(json.dumps(document) for document in documents)
    apply_operations(parse_operations(text), kube,
                     sleep=(sleeps if sleeps is not None else []).append)


def failure(kube: FakeKube, *documents: dict[str, Any]) -> str:
    with pytest.raises(KubePatchError) as caught:
        run(kube, *documents)
    return str(caught.value)


def writes(kube: FakeKube) -> list[str]:
    return [call[0] for call in kube.calls]


def test_create_posts_and_fails_when_the_object_exists() -> None:
    kube = FakeKube()
    run(kube, {"operation": "Create", "object": configmap("a", x="1")})
    assert kube.get(CONFIGMAPS, "a", namespace="ns")["data"] == {"x": "1"}
    message = failure(kube, {"operation": "Create", "object": configmap("a")})
    assert message.startswith("operation 1 (Create ConfigMap ns/a): ")
    assert "409 AlreadyExists" in message


def test_create_if_not_exists_keeps_the_existing_object() -> None:
    kube = FakeKube()
    kube.put(CONFIGMAPS, configmap("a", x="old"))
    run(kube, {"operation": "CreateIfNotExists", "object": configmap("a", x="new")})
    assert kube.get(CONFIGMAPS, "a", namespace="ns")["data"] == {"x": "old"}
    assert writes(kube) == ["create"]


def test_create_or_update_replaces_with_the_current_resource_version() -> None:
    kube = FakeKube()
    run(kube, {"operation": "CreateOrUpdate", "object": configmap("a", x="1")})
    run(kube, {"operation": "CreateOrUpdate", "object": configmap("a", x="2")})
    assert kube.get(CONFIGMAPS, "a", namespace="ns")["data"] == {"x": "2"}
    assert writes(kube) == ["create", "create", "update"]


def test_create_or_update_retries_on_conflict_with_a_fresh_read() -> None:
    kube = FakeKube()
    kube.put(CONFIGMAPS, configmap("a", x="1"))
    kube.conflicts_on_update = 2
    sleeps: list[float] = []
    run(kube, {"operation": "CreateOrUpdate", "object": configmap("a", x="2")}, sleeps=sleeps)
    assert kube.get(CONFIGMAPS, "a", namespace="ns")["data"] == {"x": "2"}
    assert writes(kube) == ["create", "update", "update", "update"]
    assert len(sleeps) == 2 and 0 < sleeps[0] < sleeps[1], "the retry policy's growing delays"


def test_conflict_retries_are_bounded() -> None:
    kube = FakeKube()
    kube.put(CONFIGMAPS, configmap("a"))
    kube.conflicts_on_update = 99
    message = failure(kube, {"operation": "CreateOrUpdate", "object": configmap("a", x="2")})
    assert "409 Conflict" in message
    assert writes(kube).count("update") == 5


def test_a_cluster_scoped_object_loses_its_namespace_on_create() -> None:
    kube = FakeKube()
    namespace = {"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": "team", "namespace": "ignored"}}
    run(kube, {"operation": "Create", "object": namespace})
    assert kube.calls == [("create", "namespaces", None, "team")]


def test_delete_variants_use_their_propagation_policy() -> None:
    kube = FakeKube()
    for name in "abc":
        kube.put(CONFIGMAPS, configmap(name))
    run(kube,
        {"operation": "Delete", "kind": "ConfigMap", "namespace": "ns", "name": "a"},
        {"operation": "DeleteInBackground", "kind": "cm", "namespace": "ns", "name": "b"},
        {"operation": "DeleteNonCascading", "apiVersion": "v1", "kind": "ConfigMap",
         "namespace": "ns", "name": "c"})
    assert [call[4] for call in kube.calls] == ["Foreground", "Background", "Orphan"]
    assert kube.objects == {}


def test_deleting_a_missing_object_is_not_an_error() -> None:
    kube = FakeKube()
    run(kube, {"operation": "Delete", "kind": "ConfigMap", "namespace": "ns", "name": "gone"})
    assert writes(kube) == ["delete"]


def test_foreground_delete_waits_and_times_out_with_a_clear_error() -> None:
    kube = FakeKube()
    kube.put(CONFIGMAPS, configmap("held"))
    kube.stuck.add(("configmaps", "ns", "held"))
    sleeps: list[float] = []
    with pytest.raises(KubePatchError, match=r"operation 1 \(Delete ConfigMap ns/held\): still "
                                             r"present 20s after the foreground deletion"):
        run(kube, {"operation": "Delete", "kind": "ConfigMap", "namespace": "ns",
                   "name": "held"}, sleeps=sleeps)
    assert sleeps == [1.0] * 20


def test_background_delete_does_not_wait() -> None:
    kube = FakeKube()
    kube.put(CONFIGMAPS, configmap("held"))
    kube.stuck.add(("configmaps", "ns", "held"))
    sleeps: list[float] = []
    run(kube, {"operation": "DeleteInBackground", "kind": "ConfigMap", "namespace": "ns",
               "name": "held"}, sleeps=sleeps)
    assert sleeps == []


def test_jq_patch_updates_only_when_the_filter_changes_the_object() -> None:
    kube = FakeKube()
    kube.put(GADGETS, {"apiVersion": "example.io/v1", "kind": "Gadget",
                       "metadata": {"name": "g"}, "status": {"n": 1}})
    patch = {"operation": "JQPatch", "kind": "Gadget", "name": "g", "subresource": "status",
             "jqFilter": ".status.n += 1"}
    run(kube, patch)
    assert kube.get(GADGETS, "g")["status"] == {"n": 2}
    assert kube.calls == [("update", "gadgets", None, "g", "status")]
    kube.calls.clear()
    run(kube, {**patch, "jqFilter": "."})
    assert kube.calls == []


def test_jq_patch_retries_on_conflict() -> None:
    kube = FakeKube()
    kube.put(CONFIGMAPS, configmap("a", n="1"))
    kube.conflicts_on_update = 1
    run(kube, {"operation": "JQPatch", "kind": "ConfigMap", "namespace": "ns", "name": "a",
               "jqFilter": '.data.n = "2"'})
    assert kube.get(CONFIGMAPS, "a", namespace="ns")["data"] == {"n": "2"}
    assert writes(kube) == ["update", "update"]


@pytest.mark.parametrize("jq_filter, expected", [
    (".data[]", "jqFilter must output exactly one object, got 2 output(s)"),
    (".data.a", "jqFilter must output exactly one object, got 1 output(s) of type str"),
    ('error("boom")', "jqFilter failed on the current object: boom"),
])
def test_jq_patch_rejects_unusable_filter_results(jq_filter: str, expected: str) -> None:
    kube = FakeKube()
    kube.put(CONFIGMAPS, configmap("a", a="1", b="2"))
    message = failure(kube, {"operation": "JQPatch", "kind": "ConfigMap", "namespace": "ns",
                             "name": "a", "jqFilter": jq_filter})
    assert message.startswith("operation 1 (JQPatch ConfigMap ns/a): ")
    assert expected in message
    assert writes(kube) == []


def test_merge_and_json_patches_pass_subresource_and_body() -> None:
    kube = FakeKube()
    kube.put(GADGETS, {"apiVersion": "example.io/v1", "kind": "Gadget",
                       "metadata": {"name": "g"}, "spec": {"a": 1}})
    json_ops = [{"op": "replace", "path": "/spec/a", "value": 2}]
    run(kube,
        {"operation": "MergePatch", "kind": "Gadget", "name": "g", "subresource": "/status",
         "mergePatch": {"status": {"ok": True}}},
        {"operation": "JSONPatch", "kind": "gadgets", "name": "g", "jsonPatch": json_ops})
    assert kube.calls == [
        ("patch_merge", "gadgets", None, "g", "status", {"status": {"ok": True}}),
        ("patch_json", "gadgets", None, "g", None, json_ops),
    ]


@pytest.mark.parametrize("operation, extra", [
    ("MergePatch", {"mergePatch": {"data": {"x": "1"}}}),
    ("JSONPatch", {"jsonPatch": [{"op": "remove", "path": "/data"}]}),
    ("JQPatch", {"jqFilter": "."}),
])
def test_ignore_missing_object(operation: str, extra: dict[str, Any]) -> None:
    kube = FakeKube()
    document = {"operation": operation, "kind": "ConfigMap", "namespace": "ns",
                "name": "missing", **extra}
    run(kube, {**document, "ignoreMissingObject": True})
    message = failure(kube, document)
    assert message.startswith(f"operation 1 ({operation} ConfigMap ns/missing): ")
    assert "404 NotFound" in message


def test_scope_mistakes_are_named() -> None:
    kube = FakeKube()
    assert "ConfigMap is namespaced: a namespace is required" in failure(
        kube, {"operation": "MergePatch", "kind": "ConfigMap", "name": "a",
               "mergePatch": {"data": {"x": "1"}}})
    assert "Namespace is cluster-scoped: remove the namespace 'ns'" in failure(
        kube, {"operation": "Delete", "kind": "Namespace", "namespace": "ns", "name": "a"})
    assert "ConfigMap is namespaced" in failure(
        kube, {"operation": "Create", "object": {"apiVersion": "v1", "kind": "ConfigMap",
                                                  "metadata": {"name": "a"}}})
    assert kube.calls == []


def test_an_unknown_kind_fails_with_the_discovery_error() -> None:
    message = failure(FakeKube(), {"operation": "Delete", "kind": "Widget", "name": "w"})
    assert message.startswith("operation 1 (Delete Widget w): ")
    assert "no resource type 'Widget'" in message


def test_the_first_failure_stops_the_sequence_and_earlier_operations_stay() -> None:
    kube = FakeKube()
    message = failure(
        kube,
        {"operation": "Create", "object": configmap("first")},
        {"operation": "MergePatch", "kind": "ConfigMap", "namespace": "ns", "name": "absent",
         "mergePatch": {"data": {"x": "1"}}},
        {"operation": "Create", "object": configmap("third")},
    )
    assert message.startswith("operation 2 (MergePatch ConfigMap ns/absent): ")
    assert ("configmaps", "ns", "first") in kube.objects
    assert ("configmaps", "ns", "third") not in kube.objects


def test_a_malformed_operation_anywhere_means_nothing_is_applied() -> None:
    kube = FakeKube()
    text = "\n".join(json.dumps(document) for document in (
        {"operation": "Create", "object": configmap("first")},
        {"operation": "MergePatch", "kind": "ConfigMap", "name": "x"},
    ))
    with pytest.raises(KubePatchError, match="operation 2 .*'mergePatch' is required"):
        apply_operations(parse_operations(text), kube)
    assert kube.calls == []


def test_api_errors_other_than_not_found_are_not_ignored() -> None:
    class Broken(FakeKube):
        def patch_merge(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            raise KubeError(422, "Invalid", "spec.x: Invalid value", what="configmaps/ns/a")

    message = failure(Broken(), {"operation": "MergePatch", "kind": "ConfigMap",
                                 "namespace": "ns", "name": "a", "ignoreMissingObject": True,
                                 "mergePatch": {"spec": {"x": 1}}})
    assert message == ("operation 1 (MergePatch ConfigMap ns/a): configmaps/ns/a: "
                       "422 Invalid: spec.x: Invalid value")
