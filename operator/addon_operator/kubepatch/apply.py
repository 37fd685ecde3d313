"""Carrying out validated `$KUBERNETES_PATCH_PATH` operations against the API, in file order.

Called by the hook-run code with the operations from `parse.py` and the operator's `KubeClient`
(tests pass a fake with the same methods: the `PatchClient` protocol). The first failure stops
the sequence with a `KubePatchError` naming the operation and the API error; operations before
it stay applied, as in shell-operator. What each operation does (as shell-operator;
docs/hooks.md, "Kubernetes operations"):

- `Create` POSTs; `CreateIfNotExists` also POSTs and ignores AlreadyExists; `CreateOrUpdate`
  POSTs and on AlreadyExists replaces (PUT) the object with the current resourceVersion.
- `Delete` deletes with Foreground propagation and waits (polling every second, 20 s at most)
  until the object is gone; `DeleteInBackground` (Background) and `DeleteNonCascading`
  (Orphan) do not wait. A missing object is never an error.
- `JQPatch` GETs the object, runs the filter and replaces (PUT) it, or its `subresource`, if the
  result differs; `MergePatch` and `JSONPatch` PATCH the object or its `subresource`. With
  `ignoreMissingObject` a missing object is not an error.
- Replacements are retried on Conflict (stale resourceVersion) with a fresh GET, after the
  delays of the operator's one retry policy (`kube.retry`), 5 attempts in all.

Deliberate difference: a namespaced kind without a namespace, or a namespace on a cluster-scoped
kind (Delete and patches), is reported as such instead of sending a request to a wrong URL.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import jq

from addon_operator.kube import Conflict, KubeError, NotFound, Resource
from addon_operator.kube.retry import api_retrying
from addon_operator.kubepatch.operations import (
    CREATE_IF_NOT_EXISTS, CREATE_OR_UPDATE, DELETE, Create, Delete, JQPatch, JSONPatch,
    KubePatchError, MergePatch, Operation, Patch,
)

CONFLICT_ATTEMPTS = 5
DELETE_POLL_SECONDS = 1.0
DELETE_WAIT_POLLS = 20


class PatchClient(Protocol):
    """The `KubeClient` methods the operations use."""

    def resolve_kind(self, api_version: str | None, kind_or_plural: str) -> Resource: ...

    def get(self, resource: Resource, name: str, *, namespace: str | None = None
            ) -> dict[str, Any]: ...

    def create(self, resource: Resource, obj: dict[str, Any], *, namespace: str | None = None
               ) -> dict[str, Any]: ...

    def update(self, resource: Resource, obj: dict[str, Any], *, namespace: str | None = None,
               subresource: str | None = None) -> dict[str, Any]: ...

    def patch_merge(self, resource: Resource, name: str, patch: dict[str, Any], *,
                    namespace: str | None = None, subresource: str | None = None
                    ) -> dict[str, Any]: ...

    def patch_json(self, resource: Resource, name: str, operations: list[dict[str, Any]], *,
                   namespace: str | None = None, subresource: str | None = None
                   ) -> dict[str, Any]: ...

    def delete(self, resource: Resource, name: str, *, namespace: str | None = None,
               ignore_not_found: bool = False, propagation_policy: str | None = None
               ) -> dict[str, Any] | None: ...


class _Failed(Exception):
    """An operation failed for a reason other than an API error (the jq result, the scope)."""


def apply_operations(operations: Sequence[Operation], client: PatchClient, *,
                     sleep: Callable[[float], None] = time.sleep) -> None:
    """Apply `operations` one after another; the first failure raises `KubePatchError`."""
    for operation in operations:
        try:
            _apply(operation, client, sleep)
        except (KubeError, _Failed) as exc:
            raise KubePatchError(f"{operation.label}: {exc}") from exc


def _apply(operation: Operation, client: PatchClient, sleep: Callable[[float], None]) -> None:
    target = operation.target
    resource = client.resolve_kind(target.api_version or None, target.kind)
    if isinstance(operation, Create):
        _create(operation, resource, client, sleep)
        return
    namespace = _namespace(resource, target.namespace)
    if isinstance(operation, Delete):
        _delete(operation, resource, namespace, client, sleep)
        return
    assert isinstance(operation, Patch)
    try:
        if isinstance(operation, JQPatch):
            _retry_on_conflict(lambda: _jq_patch(operation, resource, namespace, client), sleep)
        elif isinstance(operation, MergePatch):
            client.patch_merge(resource, target.name, operation.merge_patch, namespace=namespace,
                               subresource=operation.subresource or None)
        elif isinstance(operation, JSONPatch):
            client.patch_json(resource, target.name, operation.json_patch, namespace=namespace,
                              subresource=operation.subresource or None)
    except NotFound:
        if not operation.ignore_missing_object:
            raise


def _namespace(resource: Resource, namespace: str) -> str | None:
    if resource.namespaced and not namespace:
        raise _Failed(f"{resource.kind or resource.plural} is namespaced: a namespace is "
                      "required")
    if not resource.namespaced and namespace:
        raise _Failed(f"{resource.kind or resource.plural} is cluster-scoped: remove the "
                      f"namespace {namespace!r}")
    return namespace or None


def _create(operation: Create, resource: Resource, client: PatchClient,
            sleep: Callable[[float], None]) -> None:
    # A namespace on a cluster-scoped object is dropped, as the API server itself does.
    namespace = _namespace(resource, operation.target.namespace if resource.namespaced else "")
    try:
        client.create(resource, operation.object, namespace=namespace)
    except Conflict as exc:
        if exc.reason != "AlreadyExists" or operation.operation not in (
                CREATE_IF_NOT_EXISTS, CREATE_OR_UPDATE):
            raise
        if operation.operation == CREATE_OR_UPDATE:
            _retry_on_conflict(lambda: _replace(operation, resource, namespace, client), sleep)


def _replace(operation: Create, resource: Resource, namespace: str | None,
             client: PatchClient) -> None:
    current = client.get(resource, operation.target.name, namespace=namespace)
    desired = copy.deepcopy(operation.object)
    desired["metadata"]["resourceVersion"] = current.get("metadata", {}).get("resourceVersion")
    client.update(resource, desired, namespace=namespace)


def _delete(operation: Delete, resource: Resource, namespace: str | None, client: PatchClient,
            sleep: Callable[[float], None]) -> None:
    name = operation.target.name
    deleted = client.delete(resource, name, namespace=namespace, ignore_not_found=True,
                            propagation_policy=operation.propagation_policy)
    if deleted is None or operation.operation != DELETE:
        return
    for poll in range(DELETE_WAIT_POLLS + 1):
        if poll:
            sleep(DELETE_POLL_SECONDS)
        try:
            client.get(resource, name, namespace=namespace)
        except NotFound:
            return
    raise _Failed(f"still present {DELETE_WAIT_POLLS * DELETE_POLL_SECONDS:.0f}s after the "
                  "foreground deletion (finalizers or dependents left?)")


def _jq_patch(operation: JQPatch, resource: Resource, namespace: str | None,
              client: PatchClient) -> None:
    current = client.get(resource, operation.target.name, namespace=namespace)
    try:
        outputs = jq.compile(operation.jq_filter).input_value(current).all()
    except ValueError as exc:
        raise _Failed(f"jqFilter failed on the current object: {exc}") from exc
    if len(outputs) != 1 or not isinstance(outputs[0], dict):
        raise _Failed(f"jqFilter must output exactly one object, got {len(outputs)} output(s)"
                      + (f" of type {type(outputs[0]).__name__}" if len(outputs) == 1 else ""))
    if outputs[0] != current:
        client.update(resource, outputs[0], namespace=namespace,
                      subresource=operation.subresource or None)


def _stale(exc: BaseException) -> bool:
    return isinstance(exc, Conflict) and exc.reason != "AlreadyExists"


def _retry_on_conflict(attempt: Callable[[], None], sleep: Callable[[float], None]) -> None:
    """Run `attempt` (which re-reads the object) again while it meets a stale resourceVersion."""
    api_retrying(attempts=CONFLICT_ATTEMPTS, sleep=sleep, retry_on=_stale)(attempt)
