"""A fake of the Lease API for the leader-election tests (tests/unit/test_leader.py, the
elector itself; tests/unit/runtime/test_leadership.py, the runtime's use of it): objects kept
as dicts with resourceVersion checks, errors as the real API server answers them."""

from __future__ import annotations

import copy
from typing import Any

from addon_operator.kube.errors import Conflict, KubeError, NotFound
from addon_operator.kube.resources import LEASES, Resource
from addon_operator.leader import LEASE_NAME


class FakeLeases:
    """The Lease API of one namespace: 404 when absent, 409 on a stale resourceVersion or a
    create of an existing name, 503 on every call while `broken`; `writes` records every
    stored version."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.objects: dict[str, dict[str, Any]] = {}
        self.version = 0
        self.writes: list[dict[str, Any]] = []
        self.broken = False

    def _check(self, resource: Resource, namespace: str | None) -> None:
        assert resource is LEASES and namespace == self.namespace
        if self.broken:
            raise KubeError(503, "ServiceUnavailable", "down", what="leases")

    def get(self, resource: Resource, name: str, *, namespace: str | None = None
            ) -> dict[str, Any]:
        self._check(resource, namespace)
        if name not in self.objects:
            raise NotFound(404, "NotFound", f"leases {name!r} not found")
        return copy.deepcopy(self.objects[name])

    def create(self, resource: Resource, obj: dict[str, Any], *, namespace: str | None = None
               ) -> dict[str, Any]:
        self._check(resource, namespace)
        name = obj["metadata"]["name"]
        if name in self.objects:
            raise Conflict(409, "AlreadyExists", f"leases {name!r} already exists")
        return self._store(obj)

    def update(self, resource: Resource, obj: dict[str, Any], *, namespace: str | None = None
               ) -> dict[str, Any]:
        self._check(resource, namespace)
        name = obj["metadata"]["name"]
        current = self.objects[name]["metadata"]["resourceVersion"]
        if obj["metadata"].get("resourceVersion") != current:
            raise Conflict(409, "Conflict", "the object has been modified")
        return self._store(obj)

    def _store(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.version += 1
        stored = copy.deepcopy(obj)
        stored["metadata"]["resourceVersion"] = str(self.version)
        self.objects[stored["metadata"]["name"]] = stored
        self.writes.append(copy.deepcopy(stored))
        return copy.deepcopy(stored)

    def put(self, **spec: Any) -> None:
        """Another replica writes the Lease (created when absent)."""
        current = self.objects.get(LEASE_NAME, {"metadata": {"name": LEASE_NAME}, "spec": {}})
        self._store({**current, "spec": {**current["spec"], **spec}})

    def spec(self) -> dict[str, Any]:
        return self.objects[LEASE_NAME]["spec"]

    def holder(self) -> str:
        return str(self.spec()["holderIdentity"])
