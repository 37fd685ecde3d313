"""Helpers of the sandbox tests that drive our own `KubeClient` (test_kube_adapter.py,
test_kubepatch_sandbox.py): a cluster-scoped test kind served by a CRD with an open schema and
the status subresource, throw-away namespaces, and names no other test uses on the shared
server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from addon_operator.kube import Conflict, KubeClient, Resource
from addon_operator.kube.resources import CRDS, NAMESPACES

CONFIGMAPS = Resource("", "v1", "configmaps", True, "ConfigMap", "configmap", ("cm",))
OPEN = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def open_crd(kind: Resource) -> dict[str, Any]:
    """The CRD serving the cluster-scoped `kind` (its group, version and names), accepting any
    spec and status, with the status subresource."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{kind.plural}.{kind.group}"},
        "spec": {
            "group": kind.group,
            "scope": "Cluster",
            "names": {"plural": kind.plural, "singular": kind.singular, "kind": kind.kind,
                      "shortNames": list(kind.short_names)},
            "versions": [{
                "name": kind.version, "served": True, "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object",
                                               "properties": {"spec": OPEN, "status": OPEN}}},
            }],
        },
    }


def install_crd(kube: KubeClient, crd: dict[str, Any]) -> None:
    """Create `crd` unless an earlier test on the same server did."""
    try:
        kube.create(CRDS, crd)
    except Conflict:
        pass


@contextmanager
def temporary_namespace(kube: KubeClient, prefix: str) -> Iterator[str]:
    """A new namespace for one test, deleted afterwards."""
    name = unique(prefix)
    kube.create(NAMESPACES, {"metadata": {"name": name}})
    try:
        yield name
    finally:
        kube.delete(NAMESPACES, name, ignore_not_found=True)
