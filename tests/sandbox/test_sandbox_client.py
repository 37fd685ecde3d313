"""The sandbox driven by the official Python client: CRUD, concurrency, selectors, subresources,
generation, finalizers, CRDs and schema admission. Assertions read back the stored state."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kube_sandbox import SandboxServer

GROUP, VERSION = "demo.example.com", "v1"

WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"widgets.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"], "categories": ["demo"]},
        "versions": [{
            "name": VERSION, "served": True, "storage": True,
            "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {"type": "object", "required": ["size"], "properties": {
                        "size": {"type": "integer", "minimum": 1},
                        "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                    }},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                },
            }},
        }],
    },
}


@pytest.fixture
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def namespace(core: client.CoreV1Api) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="module")
def widgets(api_client: client.ApiClient) -> client.CustomObjectsApi:
    ext = client.ApiextensionsV1Api(api_client)
    try:
        ext.create_custom_resource_definition(WIDGET_CRD)
    except ApiException as exc:
        assert exc.status == 409
    return client.CustomObjectsApi(api_client)


def status_of(exc: pytest.ExceptionInfo[ApiException]) -> tuple[int, str]:
    body = json.loads(exc.value.body)
    assert body["kind"] == "Status" and body["code"] == exc.value.status
    return exc.value.status, body["reason"]


def message_of(exc: pytest.ExceptionInfo[ApiException]) -> str:
    return json.loads(exc.value.body)["message"]


def test_configmap_crud_and_metadata(core: client.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}, "data": {"k": "v"}})
    assert created.metadata.uid and created.metadata.creation_timestamp
    fetched = core.read_namespaced_config_map("a", namespace)
    assert fetched.data == {"k": "v"} and fetched.metadata.resource_version == created.metadata.resource_version
    fetched.data["k"] = "w"
    updated = core.replace_namespaced_config_map("a", namespace, fetched)
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)
    with pytest.raises(ApiException) as stale:
        core.replace_namespaced_config_map("a", namespace, fetched)
    assert status_of(stale) == (409, "Conflict")
    with pytest.raises(ApiException) as exists:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}})
    assert status_of(exists) == (409, "AlreadyExists")
    core.delete_namespaced_config_map("a", namespace)
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("a", namespace)
    assert status_of(gone) == (404, "NotFound")


def test_noop_update_keeps_resource_version(core: client.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_config_map(namespace, {"metadata": {"name": "same"}, "data": {"k": "v"}})
    again = core.patch_namespaced_config_map("same", namespace, {"data": {"k": "v"}})
    assert again.metadata.resource_version == created.metadata.resource_version


def test_generate_name_and_missing_namespace(core: client.CoreV1Api, namespace: str) -> None:
    made = core.create_namespaced_secret(namespace, {"metadata": {"generateName": "tok-"}, "stringData": {"a": "b"}})
    assert made.metadata.name.startswith("tok-") and len(made.metadata.name) == 9
    assert core.read_namespaced_secret(made.metadata.name, namespace).data == {"a": "Yg=="}
    with pytest.raises(ApiException) as missing:
        core.create_namespaced_config_map("no-such-ns", {"metadata": {"name": "x"}})
    assert status_of(missing) == (404, "NotFound")
    assert message_of(missing) == 'namespaces "no-such-ns" not found'
    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "Bad_Name"}})
    assert status_of(invalid) == (422, "Invalid")


def test_selectors_cross_namespace_list_and_deletecollection(core: client.CoreV1Api, namespace: str) -> None:
    for name, tier in (("a", "web"), ("b", "db"), ("c", "web")):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name, "labels": {"tier": tier}}})
    names = lambda items: sorted(i.metadata.name for i in items)  # noqa: E731
    assert names(core.list_namespaced_config_map(namespace, label_selector="tier=web").items) == ["a", "c"]
    assert names(core.list_namespaced_config_map(namespace, label_selector="tier notin (web)").items) == ["b"]
    assert names(core.list_namespaced_config_map(namespace, field_selector="metadata.name!=a").items) == ["b", "c"]
    everywhere = core.list_config_map_for_all_namespaces(field_selector=f"metadata.namespace={namespace}")
    assert names(everywhere.items) == ["a", "b", "c"]
    page = core.list_namespaced_config_map(namespace, limit=2)
    assert names(page.items) == ["a", "b"] and page.metadata._continue
    rest = core.list_namespaced_config_map(namespace, limit=2, _continue=page.metadata._continue)
    assert names(rest.items) == ["c"] and not rest.metadata._continue
    core.delete_collection_namespaced_config_map(namespace, label_selector="tier=web")
    assert names(core.list_namespaced_config_map(namespace).items) == ["b"]


def test_deployment_status_subresource_and_generation(api_client: client.ApiClient, namespace: str) -> None:
    apps = client.AppsV1Api(api_client)
    body = {"metadata": {"name": "web"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}},
        "status": {"replicas": 9}}
    created = apps.create_namespaced_deployment(namespace, body)
    assert created.metadata.generation == 1 and created.status is None
    apps.patch_namespaced_deployment("web", namespace, {"metadata": {"labels": {"x": "y"}}, "status": {"replicas": 5}})
    stored = apps.read_namespaced_deployment("web", namespace)
    assert stored.metadata.generation == 1 and stored.status is None and stored.metadata.labels == {"x": "y"}
    apps.patch_namespaced_deployment_status("web", namespace, {"status": {"readyReplicas": 1}, "spec": {"replicas": 7}})
    stored = apps.read_namespaced_deployment("web", namespace)
    assert stored.status.ready_replicas == 1 and stored.spec.replicas == 1 and stored.metadata.generation == 1
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 3}})
    stored = apps.read_namespaced_deployment("web", namespace)
    assert stored.metadata.generation == 2 and stored.spec.replicas == 3 and stored.status.ready_replicas == 1


def test_finalizers_delay_deletion(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    core.delete_namespaced_config_map("held", namespace)
    pending = core.read_namespaced_config_map("held", namespace)
    assert pending.metadata.deletion_timestamp is not None
    with pytest.raises(ApiException) as adding:
        core.patch_namespaced_config_map("held", namespace, {"metadata": {"finalizers": ["example.com/hold", "b"]}})
    assert status_of(adding) == (422, "Invalid")
    core.patch_namespaced_config_map("held", namespace, {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("held", namespace)
    assert gone.value.status == 404


def test_json_and_apply_patches_over_http(api_client: client.ApiClient, core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "p"}, "data": {"a": "1", "b": "2"}})
    core.patch_namespaced_config_map("p", namespace, [{"op": "move", "from": "/data/a", "path": "/data/c"}])
    assert core.read_namespaced_config_map("p", namespace).data == {"b": "2", "c": "1"}
    with pytest.raises(ApiException) as failed_test:
        core.patch_namespaced_config_map("p", namespace, [{"op": "test", "path": "/data/b", "value": "9"}])
    assert failed_test.value.status == 422
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"x": "1", "y": "2"}}
    core.patch_namespaced_config_map("applied", namespace, manifest, field_manager="test",
                                     _content_type="application/apply-patch+yaml")
    manifest["data"] = {"x": "3"}
    core.patch_namespaced_config_map("applied", namespace, manifest, field_manager="test",
                                     _content_type="application/apply-patch+yaml")
    assert core.read_namespaced_config_map("applied", namespace).data == {"x": "3"}


def test_custom_resources_schema_status_and_generation(widgets: client.CustomObjectsApi, namespace: str) -> None:
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"size": 2, "unknown": "pruned"}, "status": {"ignored": True}}
    created = widgets.create_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", body)
    assert created["spec"] == {"size": 2, "color": "red"} and "status" not in created
    assert created["metadata"]["generation"] == 1
    with pytest.raises(ApiException) as invalid:
        widgets.create_namespaced_custom_object(GROUP, VERSION, namespace, "widgets",
                                                {**body, "metadata": {"name": "bad"}, "spec": {"color": "green"}})
    assert status_of(invalid) == (422, "Invalid")
    assert "spec.size" in message_of(invalid) and "spec.color" in message_of(invalid)
    widgets.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, "widgets", "w",
                                                  {"status": {"phase": "Ready"}, "spec": {"size": 9}})
    stored = widgets.get_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "w")
    assert stored["status"] == {"phase": "Ready"} and stored["spec"]["size"] == 2
    assert stored["metadata"]["generation"] == 1
    with pytest.raises(ApiException) as strategic:
        widgets.patch_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "w", {"spec": {"size": 3}},
                                               _content_type="application/strategic-merge-patch+json")
    assert status_of(strategic) == (415, "UnsupportedMediaType")
    widgets.patch_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "w", {"spec": {"size": 3}})
    stored = widgets.get_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "w")
    assert stored["metadata"]["generation"] == 2 and stored["status"] == {"phase": "Ready"}
    stale = {**stored, "metadata": {**stored["metadata"], "resourceVersion": "1"}}
    with pytest.raises(ApiException) as conflict:
        widgets.replace_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "w", stale)
    assert status_of(conflict) == (409, "Conflict")
    unconditional = {**stored, "metadata": {k: v for k, v in stored["metadata"].items() if k != "resourceVersion"}}
    with pytest.raises(ApiException) as no_rv:
        widgets.replace_namespaced_custom_object(GROUP, VERSION, namespace, "widgets", "w", unconditional)
    assert status_of(no_rv) == (422, "Invalid")


def test_crd_discovery_and_deletion_removes_objects(fresh_client: client.ApiClient, fresh_sandbox: SandboxServer) -> None:
    ext = client.ApiextensionsV1Api(fresh_client)
    crd = ext.create_custom_resource_definition(WIDGET_CRD)
    conditions = {c.type: c.status for c in crd.status.conditions}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert crd.status.accepted_names.kind == "Widget"
    resources = client.CustomObjectsApi(fresh_client).get_api_resources(GROUP, VERSION)
    by_name = {r.name: r for r in resources.resources}
    assert by_name["widgets"].short_names == ["wd"] and by_name["widgets"].categories == ["demo"]
    assert by_name["widgets"].namespaced and "widgets/status" in by_name
    groups = {g.name for g in client.ApisApi(fresh_client).get_api_versions().groups}
    assert GROUP in groups
    objects = client.CustomObjectsApi(fresh_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, "default", "widgets",
                                            {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Widget",
                                             "metadata": {"name": "w"}, "spec": {"size": 1}})
    ext.delete_custom_resource_definition(f"widgets.{GROUP}")
    assert fresh_sandbox.store.list((GROUP, "widgets")) == []
    with pytest.raises(ApiException) as unserved:
        objects.list_namespaced_custom_object(GROUP, VERSION, "default", "widgets")
    assert unserved.value.status == 404


def test_namespace_deletion_removes_its_objects(core: client.CoreV1Api, sandbox: SandboxServer) -> None:
    core.create_namespace({"metadata": {"name": "doomed"}})
    core.create_namespaced_config_map("doomed", {"metadata": {"name": "a"}})
    assert core.read_namespace("doomed").status.phase == "Active"
    core.delete_namespace("doomed")
    assert sandbox.store.get(("", "configmaps"), "doomed", "a") is None
