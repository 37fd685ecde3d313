"""OpenAPI documents: what kubectl and helm look up before they write (see openapi.py's docstring)."""

from __future__ import annotations

import copy
from typing import Any, Iterator

import jsonschema
import pytest

from kube_sandbox.openapi import (
    OBJECT_META,
    document_hash,
    openapi_v2,
    openapi_v3_group_version,
    openapi_v3_index,
    schema_name,
)

MODULE_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {"type": "object", "properties": {
            "enabled": {"type": "boolean"},
            "settings": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        }},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


def builtin(group: str, version: str, kind: str, plural: str, namespaced: bool = True) -> dict:
    return {"group": group, "version": version, "kind": kind, "plural": plural,
            "namespaced": namespaced, "schema": None}


RESOURCES = [
    builtin("", "v1", "Namespace", "namespaces", namespaced=False),
    builtin("", "v1", "ConfigMap", "configmaps"),
    builtin("", "v1", "Secret", "secrets"),
    builtin("apps", "v1", "Deployment", "deployments"),
    builtin("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
            namespaced=False),
    {"group": "addon-operator.io", "version": "v1alpha1", "kind": "Module", "plural": "modules",
     "namespaced": False, "schema": MODULE_SCHEMA},
]


def supports_field_validation(doc: dict, group: str, version: str, kind: str) -> bool:
    """kubectl's queryParamVerifierV3: a PATCH op carrying the GVK and a `fieldValidation` query
    parameter; a GVK without any PATCH path is an error there, so it must never be missing."""
    wanted = {"group": group, "version": version, "kind": kind}
    for item in doc["paths"].values():
        patch = item.get("patch")
        if patch and patch.get("x-kubernetes-group-version-kind") == wanted:
            return any(p["name"] == "fieldValidation" and p["in"] == "query"
                       for p in patch["parameters"])
    raise AssertionError(f"Path not found for GVK {wanted}")


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def test_v3_index_lists_every_group_version_with_a_hashed_url() -> None:
    index = openapi_v3_index(RESOURCES)
    assert set(index["paths"]) == {"api/v1", "apis/apps/v1", "apis/apiextensions.k8s.io/v1",
                                   "apis/addon-operator.io/v1alpha1"}
    url = index["paths"]["apis/addon-operator.io/v1alpha1"]["serverRelativeURL"]
    doc = openapi_v3_group_version(RESOURCES, "addon-operator.io", "v1alpha1")
    assert url == f"/openapi/v3/apis/addon-operator.io/v1alpha1?hash={document_hash(doc)}"
    assert index["paths"]["api/v1"]["serverRelativeURL"].startswith("/openapi/v3/api/v1?hash=")


def test_hash_changes_when_a_crd_schema_changes() -> None:
    changed = copy.deepcopy(RESOURCES)
    changed[-1]["schema"]["properties"]["spec"]["properties"]["suspend"] = {"type": "boolean"}
    key = "apis/addon-operator.io/v1alpha1"
    before = openapi_v3_index(RESOURCES)["paths"]
    after = openapi_v3_index(changed)["paths"]
    assert before[key] != after[key]
    assert before["api/v1"] == after["api/v1"]


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r["kind"])
def test_every_kind_lets_kubectl_and_helm_use_server_side_validation(resource: dict) -> None:
    doc = openapi_v3_group_version(RESOURCES, resource["group"], resource["version"])
    assert doc is not None and doc["openapi"].startswith("3.")
    assert supports_field_validation(doc, resource["group"], resource["version"], resource["kind"])


def test_paths_cover_namespaced_and_cluster_scope() -> None:
    core = openapi_v3_group_version(RESOURCES, "", "v1")
    assert "/api/v1/namespaces/{namespace}/configmaps/{name}" in core["paths"]
    assert "/api/v1/namespaces/{name}" in core["paths"]
    item = core["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]
    assert {p["name"] for p in item["parameters"]} == {"name", "namespace"}
    assert "application/apply-patch+yaml" in item["patch"]["requestBody"]["content"]
    crd = openapi_v3_group_version(RESOURCES, "addon-operator.io", "v1alpha1")
    assert set(crd["paths"]) == {"/apis/addon-operator.io/v1alpha1/modules",
                                 "/apis/addon-operator.io/v1alpha1/modules/{name}"}


def test_component_schemas_carry_the_gvk_list_and_all_refs_resolve() -> None:
    for group, version in [("", "v1"), ("apps", "v1"), ("addon-operator.io", "v1alpha1")]:
        doc = openapi_v3_group_version(RESOURCES, group, version)
        schemas = doc["components"]["schemas"]
        for ref in refs(doc):
            assert ref.startswith("#/components/schemas/") and ref.split("/")[-1] in schemas, ref
    core = openapi_v3_group_version(RESOURCES, "", "v1")["components"]["schemas"]
    assert core["io.k8s.api.core.v1.ConfigMap"]["x-kubernetes-group-version-kind"] == [
        {"group": "", "kind": "ConfigMap", "version": "v1"}]
    assert core["io.k8s.api.core.v1.ConfigMapList"]["x-kubernetes-group-version-kind"][0][
        "kind"] == "ConfigMapList"


def test_schema_names_follow_the_api_server() -> None:
    assert schema_name(RESOURCES[3]) == "io.k8s.api.apps.v1.Deployment"
    assert schema_name(RESOURCES[4]) == (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition")
    assert schema_name(RESOURCES[5]) == "io.addon-operator.v1alpha1.Module"


def validator_for(doc: dict, name: str, components_key: str = "components") -> jsonschema.Validator:
    root = {"$ref": f"#/{components_key}/schemas/{name}" if components_key == "components"
            else f"#/definitions/{name}"}
    if components_key == "components":
        root["components"] = doc["components"]
    else:
        root["definitions"] = doc["definitions"]
    return jsonschema.Draft7Validator(root)


def test_builtin_schema_is_permissive_but_checks_metadata() -> None:
    doc = openapi_v3_group_version(RESOURCES, "apps", "v1")
    component = doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert component["x-kubernetes-preserve-unknown-fields"] is True
    validator = validator_for(doc, "io.k8s.api.apps.v1.Deployment")
    good = {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"anything": {"goes": [1, 2]}}, "unknownTopLevel": True}
    assert not list(validator.iter_errors(good))
    bad = {**good, "metadata": {"name": "web", "labels": {"app": 1}}}
    assert list(validator.iter_errors(bad))


def test_crd_schema_is_published_with_resource_fields_and_input_untouched() -> None:
    pristine = copy.deepcopy(MODULE_SCHEMA)
    doc = openapi_v3_group_version(RESOURCES, "addon-operator.io", "v1alpha1")
    assert MODULE_SCHEMA == pristine
    component = doc["components"]["schemas"]["io.addon-operator.v1alpha1.Module"]
    assert component["properties"]["spec"] == MODULE_SCHEMA["properties"]["spec"]
    assert component["properties"]["metadata"]["allOf"] == [
        {"$ref": f"#/components/schemas/{OBJECT_META}"}]
    assert component["x-kubernetes-group-version-kind"] == [
        {"group": "addon-operator.io", "kind": "Module", "version": "v1alpha1"}]
    validator = validator_for(doc, "io.addon-operator.v1alpha1.Module")
    module = {"apiVersion": "addon-operator.io/v1alpha1", "kind": "Module",
              "metadata": {"name": "cert-manager"}, "spec": {"enabled": True, "settings": {"a": 1}}}
    assert not list(validator.iter_errors(module))
    assert list(validator.iter_errors({**module, "spec": {"enabled": "yes"}}))


def test_unknown_group_version_has_no_document() -> None:
    assert openapi_v3_group_version(RESOURCES, "apps", "v2") is None
    assert openapi_v3_group_version(RESOURCES, "nope.io", "v1") is None


def test_v2_document_uses_definitions_and_resolves() -> None:
    doc = openapi_v2(RESOURCES)
    assert doc["swagger"] == "2.0"
    for ref in refs(doc):
        assert ref.startswith("#/definitions/") and ref.split("/")[-1] in doc["definitions"], ref
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "kind": "Deployment",
                                                        "version": "v1"}
    assert any(p["name"] == "fieldValidation" and p["type"] == "string"
               for p in patch["parameters"])
    assert "application/merge-patch+json" in patch["consumes"]
    validator = validator_for(doc, "io.addon-operator.v1alpha1.Module", components_key="definitions")
    assert list(validator.iter_errors({"metadata": {"finalizers": "x"}}))


@pytest.mark.parametrize("group", ["", "addon-operator.io"])
def test_no_operation_offers_strategic_merge_patch(group: str) -> None:
    """kubectl computes a strategic-merge patch from the schema only if PATCH accepts it; custom
    kinds must get a JSON merge patch, and permissive built-in schemas cannot drive one."""
    doc = openapi_v3_group_version(RESOURCES, group, "v1" if not group else "v1alpha1")
    for item in doc["paths"].values():
        content = item["patch"]["requestBody"]["content"] if "patch" in item else {}
        assert "application/strategic-merge-patch+json" not in content
        assert not content or "application/merge-patch+json" in content
