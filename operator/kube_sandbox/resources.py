"""The kind registry: which resources the sandbox serves, built-in and registered by CRDs.

The router resolves `/api/v1/...` and `/apis/<group>/<version>/...` paths through `Registry`,
discovery and OpenAPI documents are generated from it, and the CRD lifecycle (`crds.py`) adds and
removes entries. Objects of one resource share a storage key (group, plural) across versions.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")

StoreKey = tuple[str, str]  # (group, plural)


@dataclass(frozen=True)
class ResourceType:
    """One served resource in one version."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    status_subresource: bool = False
    tracks_generation: bool = False
    unconditional_update: bool = True
    create_on_update: bool = False
    returns_deleted_object: bool = False
    path_segment_names: bool = False
    custom: bool = False
    schema: dict[str, Any] | None = None
    printer_columns: list[dict[str, Any]] | None = None
    storage_version: str = ""
    verbs: tuple[str, ...] = ALL_VERBS

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> StoreKey:
        return (self.group, self.plural)

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def group_resource(self) -> str:
        """`configmaps` or `modules.addon-operator.io`: how error messages name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _builtin(group: str, version: str, kind: str, plural: str, namespaced: bool, **kw: Any) -> ResourceType:
    return ResourceType(group=group, version=version, kind=kind, plural=plural, namespaced=namespaced, **kw)


BUILTINS: tuple[ResourceType, ...] = (
    _builtin("", "v1", "Namespace", "namespaces", False, short_names=("ns",), status_subresource=True,
             verbs=("create", "delete", "get", "list", "patch", "update", "watch")),
    _builtin("", "v1", "ConfigMap", "configmaps", True, short_names=("cm",)),
    _builtin("", "v1", "Secret", "secrets", True),
    _builtin("", "v1", "Service", "services", True, short_names=("svc",), categories=("all",),
             status_subresource=True),
    _builtin("", "v1", "ServiceAccount", "serviceaccounts", True, short_names=("sa",)),
    _builtin("", "v1", "Pod", "pods", True, short_names=("po",), categories=("all",),
             status_subresource=True, tracks_generation=True, returns_deleted_object=True),
    _builtin("", "v1", "Event", "events", True, short_names=("ev",), create_on_update=True),
    _builtin("apps", "v1", "Deployment", "deployments", True, short_names=("deploy",), categories=("all",),
             status_subresource=True, tracks_generation=True),
    _builtin("apps", "v1", "DaemonSet", "daemonsets", True, short_names=("ds",), categories=("all",),
             status_subresource=True, tracks_generation=True),
    _builtin("apps", "v1", "StatefulSet", "statefulsets", True, short_names=("sts",), categories=("all",),
             status_subresource=True, tracks_generation=True),
    _builtin("apps", "v1", "ReplicaSet", "replicasets", True, short_names=("rs",), categories=("all",),
             status_subresource=True, tracks_generation=True),
    _builtin("batch", "v1", "Job", "jobs", True, categories=("all",), status_subresource=True,
             tracks_generation=True),
    _builtin("batch", "v1", "CronJob", "cronjobs", True, short_names=("cj",), categories=("all",),
             status_subresource=True, tracks_generation=True),
    _builtin("rbac.authorization.k8s.io", "v1", "Role", "roles", True, path_segment_names=True),
    _builtin("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, path_segment_names=True),
    _builtin("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True, path_segment_names=True),
    _builtin("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False,
             path_segment_names=True),
    _builtin("coordination.k8s.io", "v1", "Lease", "leases", True),
    _builtin("events.k8s.io", "v1", "Event", "events", True, short_names=("ev",)),
    _builtin("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False,
             short_names=("crd", "crds"), categories=("api-extensions",), status_subresource=True,
             tracks_generation=True),
)


@dataclass
class Registry:
    """Thread-safe lookup of served resources; `generation` changes whenever the set changes."""

    _types: dict[tuple[str, str, str], ResourceType] = field(default_factory=dict)
    _by_crd: dict[str, list[ResourceType]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    generation: int = 0

    @classmethod
    def with_builtins(cls) -> "Registry":
        registry = cls()
        for rtype in BUILTINS:
            registry._types[(rtype.group, rtype.version, rtype.plural)] = rtype
        return registry

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._types.get((group, version, plural))

    def all(self) -> list[ResourceType]:
        with self._lock:
            return list(self._types.values())

    def register_crd(self, crd_name: str, types: list[ResourceType]) -> None:
        """Replace whatever `crd_name` served before with `types`."""
        with self._lock:
            for old in self._by_crd.pop(crd_name, []):
                self._types.pop((old.group, old.version, old.plural), None)
            for rtype in types:
                self._types[(rtype.group, rtype.version, rtype.plural)] = rtype
            self._by_crd[crd_name] = list(types)
            self.generation += 1

    def unregister_crd(self, crd_name: str) -> list[ResourceType]:
        with self._lock:
            removed = self._by_crd.pop(crd_name, [])
            for old in removed:
                self._types.pop((old.group, old.version, old.plural), None)
            self.generation += 1
            return removed

    def groups(self) -> list[tuple[str, list[str]]]:
        """(group, versions) in a stable order: built-in groups first, then CRD groups; the first
        version listed is the preferred one (highest by Kubernetes version priority)."""
        order: dict[str, list[str]] = {}
        for rtype in self.all():
            versions = order.setdefault(rtype.group, [])
            if rtype.version not in versions:
                versions.append(rtype.version)
        return [(group, sorted(versions, key=version_priority)) for group, versions in order.items()]

    def resources(self, group: str, version: str) -> list[ResourceType]:
        return [rtype for rtype in self.all() if rtype.group == group and rtype.version == version]


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key putting GA before beta before alpha, higher numbers first (as kube-aggregator)."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (3, 0, 0, version)
    major, stage, minor = match.groups()
    stage_rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (stage_rank, -int(major), -int(minor or 0), version)
