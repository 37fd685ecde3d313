"""Resource types and API discovery documents, as plain data.

A `Resource` says where objects of one type live in the API (group, version, plural, scope) and
builds their URL paths; the client takes one on every call so the engine never deals with
generated model classes. `resources_of()` and `match()` read discovery documents
(`APIResourceList`, `APIGroupList`) without I/O, so kind resolution for hook bindings (kind,
plural, singular or short name, any case) is tested directly; the client only fetches them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

GROUP = "addon-operator.io"
VERSION = "v1alpha1"


@dataclass(frozen=True)
class Resource:
    """One API resource type; `group` is empty for the core API."""

    group: str
    version: str
    plural: str
    namespaced: bool
    kind: str = ""
    singular: str = ""
    short_names: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(
        self, name: str | None = None, *, namespace: str | None = None,
        subresource: str | None = None,
    ) -> str:
        """The URL path of the collection, or of one object (and one of its subresources).

        A namespaced resource without `namespace` addresses all namespaces (list and watch).
        """
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        elif not self.namespaced and namespace:
            raise ValueError(f"{self.describe()} is cluster-scoped: no namespace expected, "
                             f"got {namespace!r}")
        base += f"/{self.plural}"
        if name is not None:
            base += f"/{quote(name, safe='')}"
            if subresource:
                base += f"/{subresource}"
        return base

    def describe(self, name: str | None = None, namespace: str | None = None) -> str:
        """`modules.addon-operator.io/foo` or `events/ns/x`: how errors name an object."""
        kind = f"{self.plural}.{self.group}" if self.group else self.plural
        where = "/".join(part for part in (namespace, name) if part)
        return f"{kind}/{where}" if where else kind


MODULES = Resource(GROUP, VERSION, "modules", False, "Module", "module", ("mod",))
GLOBAL_CONFIGS = Resource(GROUP, VERSION, "globalconfigs", False, "GlobalConfig",
                          "globalconfig", ("gcfg",))
EVENTS = Resource("", "v1", "events", True, "Event", "event", ("ev",))
NAMESPACES = Resource("", "v1", "namespaces", False, "Namespace", "namespace", ("ns",))
LEASES = Resource("coordination.k8s.io", "v1", "leases", True, "Lease", "lease")
CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", False,
                "CustomResourceDefinition", "customresourcedefinition", ("crd", "crds"))


def split_api_version(api_version: str) -> tuple[str, str]:
    """`apps/v1` -> (`apps`, `v1`); `v1` -> (``, `v1`)."""
    group, _, version = api_version.rpartition("/")
    return group, version


def resources_of(resource_list: dict[str, Any]) -> list[Resource]:
    """The resources of an `APIResourceList` (subresources such as `pods/log` left out)."""
    group, version = split_api_version(str(resource_list.get("groupVersion", "")))
    return [
        Resource(
            group=group,
            version=version,
            plural=entry["name"],
            namespaced=bool(entry.get("namespaced")),
            kind=entry.get("kind", ""),
            singular=entry.get("singularName") or entry.get("kind", "").lower(),
            short_names=tuple(entry.get("shortNames") or ()),
        )
        for entry in resource_list.get("resources", [])
        if "/" not in entry.get("name", "/")
    ]


def preferred_versions(group_list: dict[str, Any]) -> list[str]:
    """The preferred `group/version` of every group of an `APIGroupList`, in listed order."""
    out = []
    for group in group_list.get("groups", []):
        preferred = group.get("preferredVersion") or (group.get("versions") or [None])[0]
        if preferred and preferred.get("groupVersion"):
            out.append(preferred["groupVersion"])
    return out


def match(resources: Iterable[Resource], name: str) -> Resource | None:
    """The first resource called `name`: kind, plural, singular or short name, any case.

    An exact kind match wins over the other spellings (as kubectl resolves `kind:` fields).
    """
    wanted = name.lower()
    candidates = list(resources)
    for resource in candidates:
        if resource.kind == name:
            return resource
    for resource in candidates:
        spellings = {resource.kind.lower(), resource.plural.lower(), resource.singular.lower(),
                     *(short.lower() for short in resource.short_names)}
        if wanted in spellings:
            return resource
    return None
