"""OpenAPI v2 and v3 documents for the resources the sandbox serves.

The sandbox server answers `/openapi/v2`, `/openapi/v3` and `/openapi/v3/<api|apis/g>/<v>` with
these documents. `kubectl apply` and `helm upgrade --install` (default flags) read them before
writing anything: both ask whether the PATCH operation of the object's group-version-kind accepts
the `fieldValidation` query parameter (an operation-level `x-kubernetes-group-version-kind` object
plus that parameter); if it does, validation is left to the server, otherwise they validate on the
client and need the v2 document in protobuf, which the sandbox does not serve. For a CRD not (yet)
in the documents they check the core `Namespace` instead. Client-side `kubectl apply` computes a strategic-merge patch from the component schema (found by
its `x-kubernetes-group-version-kind` list) only when the PATCH operation accepts
`application/strategic-merge-patch+json`; no operation here does: for custom kinds that is what the
API server publishes (kubectl then sends a JSON merge patch), and for built-ins the permissive
schemas have no fields to walk, so kubectl would print a warning and fall back anyway (to its
compiled-in types, sending a strategic-merge patch).

Built-in kinds get permissive schemas (any field kept); custom kinds get their CRD schema with
`apiVersion`, `kind` and a `metadata` reference to ObjectMeta added, as the API server publishes.

A resource spec is `{"group", "version", "kind", "plural", "namespaced", "schema"}`; `schema` is a
CRD version's `openAPIV3Schema`, or None for a built-in kind.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
OBJECT_META = f"{META}.ObjectMeta"
SERVER_VERSION = "v1.35.0"
QUERY_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation")
# No `application/strategic-merge-patch+json`: see the module docstring.
PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
)

_STRING = {"type": "string"}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_TIME = {"type": "string", "format": "date-time"}


def _meta_schemas(ref: str) -> dict[str, dict[str, Any]]:
    """ObjectMeta and friends, with `$ref`s written with the document's prefix `ref`."""
    return {
        OBJECT_META: {
            "description": "ObjectMeta is metadata that all persisted resources must have.",
            "type": "object",
            "properties": {
                "name": _STRING, "generateName": _STRING, "namespace": _STRING,
                "selfLink": _STRING, "uid": _STRING, "resourceVersion": _STRING,
                "generation": {"type": "integer", "format": "int64"},
                "creationTimestamp": {"$ref": f"{ref}{META}.Time"},
                "deletionTimestamp": {"$ref": f"{ref}{META}.Time"},
                "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
                "labels": _STRING_MAP, "annotations": _STRING_MAP,
                "ownerReferences": {"type": "array",
                                    "items": {"$ref": f"{ref}{META}.OwnerReference"}},
                "finalizers": {"type": "array", "items": _STRING},
                "managedFields": {"type": "array",
                                  "items": {"$ref": f"{ref}{META}.ManagedFieldsEntry"}},
            },
        },
        f"{META}.Time": {"description": "RFC 3339 date and time, in UTC.", **_TIME},
        f"{META}.OwnerReference": {
            "type": "object",
            "required": ["apiVersion", "kind", "name", "uid"],
            "properties": {"apiVersion": _STRING, "kind": _STRING, "name": _STRING,
                           "uid": _STRING, "controller": {"type": "boolean"},
                           "blockOwnerDeletion": {"type": "boolean"}},
        },
        f"{META}.ManagedFieldsEntry": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        f"{META}.ListMeta": {
            "type": "object",
            "properties": {"continue": _STRING, "remainingItemCount": {"type": "integer"},
                           "resourceVersion": _STRING, "selfLink": _STRING},
        },
        f"{META}.Patch": {"type": "object", "description": "Patch is provided to give a concrete "
                          "name and type to the Kubernetes PATCH request body."},
        f"{META}.Status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        f"{META}.DeleteOptions": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    }


def _gvk(resource: dict[str, Any], kind: str | None = None) -> dict[str, str]:
    return {"group": resource["group"], "kind": kind or resource["kind"],
            "version": resource["version"]}


def schema_name(resource: dict[str, Any], kind: str | None = None) -> str:
    """The component/definition name the API server uses (`io.k8s.api.apps.v1.Deployment`...)."""
    group, version = resource["group"], resource["version"]
    kind = kind or resource["kind"]
    if resource.get("schema") is not None:
        return ".".join(reversed(group.split("."))) + f".{version}.{kind}"
    if group == "apiextensions.k8s.io":
        return f"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{version}.{kind}"
    short = group.split(".")[0] if group else "core"
    return f"io.k8s.api.{short}.{version}.{kind}"


def _object_schema(resource: dict[str, Any], ref: str, meta_wrapper: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = (
        {"allOf": [{"$ref": f"{ref}{OBJECT_META}"}], "default": {}} if meta_wrapper
        else {"$ref": f"{ref}{OBJECT_META}"}
    )
    base = {
        "apiVersion": {"type": "string", "description": "APIVersion defines the versioned schema "
                       "of this representation of an object."},
        "kind": {"type": "string", "description": "Kind is a string value representing the REST "
                 "resource this object represents."},
        "metadata": metadata,
    }
    crd_schema = resource.get("schema")
    if crd_schema is None:
        schema: dict[str, Any] = {"type": "object", "properties": base,
                                  "x-kubernetes-preserve-unknown-fields": True}
    else:
        schema = copy.deepcopy(crd_schema)
        schema.setdefault("type", "object")
        schema["properties"] = {**schema.get("properties", {}), **base}
    schema["x-kubernetes-group-version-kind"] = [_gvk(resource)]
    return schema


def _list_schema(resource: dict[str, Any], ref: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": _STRING, "kind": _STRING,
            "items": {"type": "array", "items": {"$ref": f"{ref}{schema_name(resource)}"}},
            "metadata": {"$ref": f"{ref}{META}.ListMeta"},
        },
        "x-kubernetes-group-version-kind": [_gvk(resource, resource["kind"] + "List")],
    }


def _collection_paths(resource: dict[str, Any]) -> tuple[str, str]:
    prefix = f"/apis/{resource['group']}" if resource["group"] else "/api"
    base = f"{prefix}/{resource['version']}"
    namespace = "/namespaces/{namespace}" if resource["namespaced"] else ""
    collection = f"{base}{namespace}/{resource['plural']}"
    return collection, collection + "/{name}"


def _operation_id(verb: str, resource: dict[str, Any], suffix: str = "") -> str:
    group = "".join(part.capitalize() for part in resource["group"].split(".")[:1]) or "Core"
    scope = "Namespaced" if resource["namespaced"] else ""
    return f"{verb}{group}{resource['version'].capitalize()}{scope}{resource['kind']}{suffix}"


def _paths(resource: dict[str, Any], v3: bool, ref: str) -> dict[str, dict[str, Any]]:
    """Collection and item paths; every operation carries the GVK and the write parameters."""
    gvk = _gvk(resource)

    def body(name: str) -> dict[str, Any]:
        return {"$ref": f"{ref}{name}"}

    def params(names: tuple[str, ...]) -> list[dict[str, Any]]:
        typed = {"type": "string"}
        return [{"name": n, "in": "query", "description": n, "uniqueItems": True,
                 **({"schema": typed} if v3 else typed)} for n in names]

    def operation(verb: str, action: str, response: str, query: tuple[str, ...] = (),
                  request: str | None = None, content_types: tuple[str, ...] = ("application/json",),
                  suffix: str = "") -> dict[str, Any]:
        op: dict[str, Any] = {
            "operationId": _operation_id(verb, resource, suffix),
            "parameters": params(query),
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
        }
        if v3:
            op["responses"] = {"200": {"description": "OK", "content": {
                "application/json": {"schema": body(response)}}}}
            if request:
                op["requestBody"] = {"required": True, "content": {
                    ct: {"schema": body(request)} for ct in content_types}}
        else:
            op["responses"] = {"200": {"description": "OK", "schema": body(response)}}
            op["consumes"], op["produces"] = list(content_types), ["application/json"]
            if request:
                op["parameters"].append({"name": "body", "in": "body", "required": True,
                                         "schema": body(request)})
        return op

    def path_params(names: tuple[str, ...]) -> list[dict[str, Any]]:
        typed = {"type": "string"}
        return [{"name": n, "in": "path", "required": True, "description": n, "uniqueItems": True,
                 **({"schema": typed} if v3 else typed)} for n in names]

    kind, kind_list = schema_name(resource), schema_name(resource, resource["kind"] + "List")
    namespace = ("namespace",) if resource["namespaced"] else ()
    writes = QUERY_PARAMETERS
    collection, item = _collection_paths(resource)
    return {
        collection: {
            "parameters": path_params(namespace),
            "get": operation("list", "list", kind_list),
            "post": operation("create", "post", kind, writes, kind),
            "delete": operation("delete", "deletecollection", f"{META}.Status",
                                request=f"{META}.DeleteOptions", suffix="Collection"),
        },
        item: {
            "parameters": path_params(("name", *namespace)),
            "get": operation("read", "get", kind),
            "put": operation("replace", "put", kind, writes, kind),
            "patch": operation("patch", "patch", kind, writes + ("force",), f"{META}.Patch",
                               PATCH_TYPES),
            "delete": operation("delete", "delete", f"{META}.Status",
                                request=f"{META}.DeleteOptions"),
        },
    }


def _document(resources: list[dict[str, Any]], v3: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(paths, schemas) for `resources`, with `$ref`s in the v2 or v3 style."""
    ref = "#/components/schemas/" if v3 else "#/definitions/"
    schemas = _meta_schemas(ref)
    paths: dict[str, dict[str, Any]] = {}
    for resource in resources:
        schemas[schema_name(resource)] = _object_schema(resource, ref, meta_wrapper=v3)
        schemas[schema_name(resource, resource["kind"] + "List")] = _list_schema(resource, ref)
        paths.update(_paths(resource, v3, ref))
    return paths, schemas


def openapi_v2(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The Swagger 2.0 document (`/openapi/v2`) for every served resource."""
    paths, definitions = _document(resources, v3=False)
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": SERVER_VERSION},
        "paths": paths,
        "definitions": definitions,
    }


def gv_key(group: str, version: str) -> str:
    """The `/openapi/v3` index key of a group-version: `api/v1` or `apis/<group>/<version>`."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3_group_version(
    resources: list[dict[str, Any]], group: str, version: str
) -> dict[str, Any] | None:
    """The OpenAPI 3.0 document of one group-version, or None when nothing is served there."""
    selected = [r for r in resources if r["group"] == group and r["version"] == version]
    if not selected:
        return None
    paths, schemas = _document(selected, v3=True)
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": SERVER_VERSION},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def document_hash(document: dict[str, Any]) -> str:
    """The content hash used in `serverRelativeURL` (`?hash=`), upper-case hex SHA-512."""
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha512(encoded).hexdigest().upper()


def openapi_v3_index(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The `/openapi/v3` discovery index: each group-version with its hashed document URL.

    The hash changes whenever the document does, so clients that cache by URL refetch after a
    CRD changes; the server may ignore the `hash` query parameter when serving the document.
    """
    group_versions = sorted({(r["group"], r["version"]) for r in resources})
    paths = {}
    for group, version in group_versions:
        document = openapi_v3_group_version(resources, group, version)
        assert document is not None
        key = gv_key(group, version)
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={document_hash(document)}"}
    return {"paths": paths}
