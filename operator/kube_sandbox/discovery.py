"""Discovery documents: `/version`, `/api`, `/apis`, group and resource lists, aggregated discovery.

Generated from the `Registry` on every request (cheap: a few dozen entries), so resources that
CRDs register or remove show up at once. kubectl asks for the aggregated form
(`apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`) first; the router answers it when requested.
"""

from __future__ import annotations

from typing import Any

from .resources import Registry, ResourceType

KUBE_VERSION = {"major": "1", "minor": "35", "gitVersion": "v1.35.0", "gitCommit": "sandbox",
                "gitTreeState": "clean", "buildDate": "2025-12-17T00:00:00Z", "goVersion": "go1.25.5",
                "compiler": "gc", "platform": "linux/amd64"}
AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
STATUS_VERBS = ["get", "patch", "update"]


def version_info() -> dict[str, Any]:
    return dict(KUBE_VERSION)


def _optional_names(rtype: ResourceType) -> dict[str, Any]:
    """The short names and categories of a type, when it has any (both discovery forms)."""
    names: dict[str, Any] = {}
    if rtype.short_names:
        names["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        names["categories"] = list(rtype.categories)
    return names


def _resource_entries(rtype: ResourceType) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {
        "name": rtype.plural,
        "singularName": rtype.singular_name,
        "namespaced": rtype.namespaced,
        "kind": rtype.kind,
        "verbs": list(rtype.verbs),
        **_optional_names(rtype),
    }
    if rtype.storage_version:
        entry["storageVersionHash"] = f"{rtype.group}-{rtype.plural}-{rtype.storage_version}"
    entries = [entry]
    if rtype.status_subresource:
        entries.append({"name": f"{rtype.plural}/status", "singularName": "", "namespaced": rtype.namespaced,
                        "kind": rtype.kind, "verbs": STATUS_VERBS})
    return entries


def api_versions() -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}


def resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    types = registry.resources(group, version)
    if not types:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [entry for rtype in types for entry in _resource_entries(rtype)],
    }


def _group(group: str, versions: list[str]) -> dict[str, Any]:
    listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": listed, "preferredVersion": listed[0]}


def api_group_list(registry: Registry) -> dict[str, Any]:
    groups = [_group(g, versions) for g, versions in registry.groups() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, group: str) -> dict[str, Any] | None:
    for name, versions in registry.groups():
        if name == group and group:
            return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, versions)}
    return None


def _aggregated_resource(rtype: ResourceType) -> dict[str, Any]:
    kind = {"group": rtype.group, "version": rtype.version, "kind": rtype.kind}
    entry: dict[str, Any] = {
        "resource": rtype.plural,
        "responseKind": kind,
        "scope": "Namespaced" if rtype.namespaced else "Cluster",
        "singularResource": rtype.singular_name,
        "verbs": list(rtype.verbs),
        **_optional_names(rtype),
    }
    if rtype.status_subresource:
        entry["subresources"] = [{"subresource": "status", "responseKind": kind, "verbs": STATUS_VERBS}]
    return entry


def aggregated(registry: Registry, *, core: bool) -> dict[str, Any]:
    """The `APIGroupDiscoveryList` for `/api` (core=True) or `/apis`."""
    items = []
    for group, versions in registry.groups():
        if bool(group) == core:
            continue
        items.append({
            "metadata": {"name": group, "creationTimestamp": None},
            "versions": [
                {"version": v, "resources": [_aggregated_resource(r) for r in registry.resources(group, v)],
                 "freshness": "Current"}
                for v in versions
            ],
        })
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}
