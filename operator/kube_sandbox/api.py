"""The verbs of the Kubernetes API over the store: get, list, create, update, patch, delete.

The HTTP router (router.py) resolves a request to a `ResourceType`, namespace and name and calls
`Api`; `Api` applies the API server's semantics (optimistic concurrency, generateName, namespaces,
status subresource, generation, finalizers, CRD registration and schema admission) and raises
`ApiError` for everything a real server would refuse.
"""

from __future__ import annotations

import base64
import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from . import crds, errors, lifecycle
from .apply import apply_config
from .patch import json_patch, merge_patch, strategic_merge
from .resources import Registry, ResourceType
from .selectors import Matcher
from .store import Store

Admit = Callable[[dict[str, Any], dict[str, Any]], tuple[dict[str, Any], list[str]]]
Clock = Callable[[], datetime]

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")
NAMESPACE_KEY = ("", "namespaces")
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


@dataclass(frozen=True)
class WriteOptions:
    """Query parameters of a write that change its outcome (`dryRun`, `fieldManager`); others
    (`force`, `fieldValidation`, `pretty`) are accepted and ignored."""

    dry_run: bool = False
    field_manager: str = ""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def present(rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """The stored object as seen through `rtype`'s version (CRD conversion strategy None)."""
    if obj.get("apiVersion") == rtype.api_version and obj.get("kind") == rtype.kind:
        return obj
    return {**obj, "apiVersion": rtype.api_version, "kind": rtype.kind}


class Api:
    """Kubernetes API semantics on top of `Store` and `Registry`."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        admit: Admit,
        *,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.admit = admit
        self.clock = clock
        self.rng = rng or random.Random()

    def bootstrap(self) -> None:
        """Serve the CRDs already in the store and make sure the system namespaces exist."""
        for crd in self.store.list(CRD_KEY):
            self.registry.register_crd(crd["metadata"]["name"], crds.resource_types(crd))
        ns_type = self.registry.lookup("", "v1", "namespaces")
        assert ns_type is not None, "the Namespace kind is always served"
        for name in DEFAULT_NAMESPACES:
            if self.store.get(NAMESPACE_KEY, "", name) is None:
                self.create(ns_type, "", {"metadata": {"name": name}})

    # --- reads -------------------------------------------------------------------------------

    def get(self, rtype: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        obj = self.store.get(rtype.key, namespace, name)
        if obj is None:
            raise errors.not_found(rtype.plural, name, rtype.group)
        return present(rtype, obj)

    def list(
        self,
        rtype: ResourceType,
        namespace: str | None,
        match: Matcher,
        *,
        limit: int = 0,
        continue_token: str = "",
    ) -> dict[str, Any]:
        with self.store.lock:
            objects = self.store.list(rtype.key, namespace)
            rv = self.store.resource_version
        start = _decode_continue(continue_token) if continue_token else None
        items: list[dict[str, Any]] = []
        remaining = 0
        for obj in objects:
            meta = obj["metadata"]
            if start is not None and (meta.get("namespace", ""), meta["name"]) <= start:
                continue
            if not match(obj):
                continue
            if limit and len(items) >= limit:
                remaining += 1
                continue
            items.append(present(rtype, obj))
        list_meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if remaining:
            last = items[-1]["metadata"]
            list_meta["continue"] = _encode_continue(last.get("namespace", ""), last["name"])
            list_meta["remainingItemCount"] = remaining
        return {"kind": rtype.list_kind, "apiVersion": rtype.api_version, "metadata": list_meta, "items": items}

    # --- writes ------------------------------------------------------------------------------

    def create(
        self, rtype: ResourceType, namespace: str, body: dict[str, Any], options: WriteOptions = WriteOptions()
    ) -> dict[str, Any]:
        obj = self._normalise(rtype, namespace, body)
        meta = obj["metadata"]
        if not meta.get("name") and meta.get("generateName"):
            suffix = "".join(self.rng.choice(_SUFFIX_ALPHABET) for _ in range(5))
            meta["name"] = f"{meta['generateName']}{suffix}"
        name = meta.get("name", "")
        if problems := lifecycle.name_errors(rtype, name):
            raise errors.invalid(rtype.kind, name, problems, rtype.group)
        with self.store.lock:
            self._require_namespace(rtype, namespace)
            if self.store.get(rtype.key, namespace if rtype.namespaced else "", name) is not None:
                raise errors.already_exists(rtype.plural, name, rtype.group)
            new = lifecycle.on_write(rtype, lifecycle.initialise(rtype, obj, self.clock()))
            new = self._admitted(rtype, new)
            return self._store(rtype, new, "ADDED", options)

    def update(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        body: dict[str, Any],
        options: WriteOptions = WriteOptions(),
        subresource: str = "",
    ) -> tuple[dict[str, Any], bool]:
        """PUT; returns (object, created)."""
        obj = self._normalise(rtype, namespace, body)
        _require_url_name(obj, name)
        with self.store.lock:
            current = self.store.get(rtype.key, namespace, name)
            if current is None:
                if rtype.create_on_update and not subresource:
                    return self.create(rtype, namespace, obj, options), True
                raise errors.not_found(rtype.plural, name, rtype.group)
            requested_rv = obj["metadata"].get("resourceVersion")
            if not requested_rv and not rtype.unconditional_update:
                problem = "metadata.resourceVersion: Invalid value: 0: must be specified for an update"
                raise errors.invalid(rtype.kind, name, [problem], rtype.group)
            return self._write_update(rtype, current, obj, requested_rv, options, subresource), False

    def patch(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        patch_type: str,
        patch_body: Any,
        options: WriteOptions = WriteOptions(),
        subresource: str = "",
    ) -> tuple[dict[str, Any], bool]:
        """PATCH in any of the four formats; server-side apply creates a missing object."""
        if patch_type not in (MERGE_PATCH, JSON_PATCH, STRATEGIC_PATCH, APPLY_PATCH):
            raise errors.unsupported_media_type(patch_type)
        with self.store.lock:
            current = self.store.get(rtype.key, namespace, name)
            if patch_type == APPLY_PATCH:
                return self._apply(rtype, namespace, name, current, patch_body, options, subresource)
            if current is None:
                raise errors.not_found(rtype.plural, name, rtype.group)
            base = copy.deepcopy(present(rtype, current))
            if patch_type == MERGE_PATCH:
                patched = merge_patch(base, patch_body)
            elif patch_type == JSON_PATCH:
                patched = json_patch(base, patch_body)
            elif rtype.custom:
                raise errors.ApiError(
                    415, "UnsupportedMediaType",
                    "strategic merge patch is not supported for custom resources; use a merge patch",
                )
            else:
                patched = strategic_merge(base, patch_body)
            if not isinstance(patched, dict):
                raise errors.bad_request(f"the patch turned {rtype.kind} {name} into a non-object")
            patched = self._normalise(rtype, namespace, patched)
            patched_rv = patched["metadata"].get("resourceVersion")
            requested_rv = patched_rv if patched_rv != current["metadata"].get("resourceVersion") else None
            patched["metadata"]["name"] = name
            return self._write_update(rtype, current, patched, requested_rv, options, subresource), False

    def _apply(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        current: dict[str, Any] | None,
        config: Any,
        options: WriteOptions,
        subresource: str,
    ) -> tuple[dict[str, Any], bool]:
        if not options.field_manager:
            raise errors.bad_request("PATCH with an apply patch requires the fieldManager query parameter")
        if not isinstance(config, dict):
            raise errors.bad_request("an apply patch must be an object")
        config = self._normalise(rtype, namespace, config)
        _require_url_name(config, name)
        now = lifecycle.rfc3339(self.clock())
        manager, api_version = options.field_manager, rtype.api_version
        if current is None:
            if subresource:
                raise errors.not_found(rtype.plural, name, rtype.group)
            applied = apply_config(None, config, manager=manager, api_version=api_version, now=now)
            return self.create(rtype, namespace, applied, options), True
        requested_rv = config["metadata"].get("resourceVersion")
        applied = apply_config(present(rtype, current), config, manager=manager, api_version=api_version,
                               now=now, subresource=subresource)
        applied["metadata"]["resourceVersion"] = current["metadata"].get("resourceVersion")
        return self._write_update(rtype, current, applied, requested_rv, options, subresource), False

    def _write_update(
        self,
        rtype: ResourceType,
        current: dict[str, Any],
        body: dict[str, Any],
        requested_rv: str | None,
        options: WriteOptions,
        subresource: str,
    ) -> dict[str, Any]:
        name = current["metadata"]["name"]
        if requested_rv and requested_rv != current["metadata"].get("resourceVersion"):
            raise errors.conflict(rtype.plural, name, rtype.group)
        new = lifecycle.carry_over(rtype, current, body, subresource)
        if problems := lifecycle.finalizer_errors(current, new):
            raise errors.invalid(rtype.kind, name, problems, rtype.group)
        new = lifecycle.with_generation(rtype, current, lifecycle.on_write(rtype, new))
        if rtype.key == CRD_KEY:
            new = lifecycle.kind_defaults(rtype, new, self.clock())
        new = self._admitted(rtype, new)
        if lifecycle.comparable(new) == lifecycle.comparable(present(rtype, current)):
            return present(rtype, current)
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            if options.dry_run:
                return new
            return present(rtype, self._remove(rtype, current, last_state=new))
        return self._store(rtype, new, "MODIFIED", options)

    def delete(
        self, rtype: ResourceType, namespace: str, name: str, delete_options: dict[str, Any], dry_run: bool = False
    ) -> dict[str, Any]:
        with self.store.lock:
            current = self.store.get(rtype.key, namespace, name)
            if current is None:
                raise errors.not_found(rtype.plural, name, rtype.group)
            self._check_preconditions(rtype, current, delete_options.get("preconditions") or {})
            if current["metadata"].get("finalizers"):
                if current["metadata"].get("deletionTimestamp"):
                    return present(rtype, current)
                marked = lifecycle.mark_deleting(rtype, present(rtype, current), self.clock())
                return self._store(rtype, marked, "MODIFIED", WriteOptions(dry_run=dry_run))
            if dry_run:
                return present(rtype, current)
            final = self._remove(rtype, current)
        if rtype.returns_deleted_object:
            return present(rtype, final)
        details = {"name": name, "kind": rtype.plural, "uid": final["metadata"].get("uid")}
        if rtype.group:
            details["group"] = rtype.group
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    def delete_collection(
        self,
        rtype: ResourceType,
        namespace: str | None,
        match: Matcher,
        delete_options: dict[str, Any],
        dry_run: bool = False,
    ) -> dict[str, Any]:
        with self.store.lock:
            deleted = []
            for obj in self.store.list(rtype.key, namespace):
                if match(obj):
                    meta = obj["metadata"]
                    namespace_of = meta.get("namespace", "")
                    deleted.append(self.delete(rtype, namespace_of, meta["name"], delete_options, dry_run))
            rv = self.store.resource_version
        items = [item for item in deleted if item.get("kind") != "Status"]
        return {"kind": rtype.list_kind, "apiVersion": rtype.api_version,
                "metadata": {"resourceVersion": str(rv)}, "items": items}

    # --- helpers -----------------------------------------------------------------------------

    def _normalise(self, rtype: ResourceType, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """A copy of `body` with apiVersion/kind checked and filled and the namespace reconciled
        with the URL."""
        if not isinstance(body, dict):
            raise errors.bad_request(f"the request body for {rtype.kind} must be a JSON object")
        kind = body.get("kind")
        if kind and kind != rtype.kind:
            raise errors.bad_request(
                f"the kind of the object ({kind}) does not match the resource {rtype.group_resource} ({rtype.kind})"
            )
        api_version = body.get("apiVersion")
        if api_version and api_version != rtype.api_version:
            group = api_version.rpartition("/")[0]
            if group != rtype.group:
                raise errors.bad_request(f"the API version in the data ({api_version}) does not match the "
                                         f"expected API version ({rtype.api_version})")
        meta = body.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        meta = dict(meta or {})
        if rtype.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        return {**body, "apiVersion": rtype.api_version, "kind": rtype.kind, "metadata": meta}

    def _require_namespace(self, rtype: ResourceType, namespace: str) -> None:
        if rtype.namespaced and self.store.get(NAMESPACE_KEY, "", namespace) is None:
            raise errors.not_found("namespaces", namespace)

    def _admitted(self, rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        name = obj["metadata"].get("name", "")
        if rtype.key == CRD_KEY:
            if problems := crds.validate(obj):
                raise errors.invalid(rtype.kind, name, problems, rtype.group)
            return obj
        if not rtype.custom or not rtype.schema:
            return obj
        admitted, problems = self.admit(obj, rtype.schema)
        if problems:
            raise errors.invalid(rtype.kind, name, problems, rtype.group)
        return {**admitted, "apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": obj["metadata"]}

    def _check_preconditions(
        self, rtype: ResourceType, current: dict[str, Any], preconditions: dict[str, Any]
    ) -> None:
        meta = current["metadata"]
        for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
            wanted = preconditions.get(field)
            if wanted and wanted != meta.get(field):
                raise errors.ApiError(
                    409, "Conflict",
                    f"Precondition failed: {label} in precondition: {wanted}, "
                    f"{label} in object meta: {meta.get(field)}",
                    details={"name": meta["name"], "kind": rtype.plural, "group": rtype.group},
                )

    def _store(self, rtype: ResourceType, obj: dict[str, Any], change: str, options: WriteOptions) -> dict[str, Any]:
        if options.dry_run:
            return obj
        stored = self.store.put(rtype.key, obj, change)
        if rtype.key == CRD_KEY:
            self.registry.register_crd(stored["metadata"]["name"], crds.resource_types(stored))
        return present(rtype, stored)

    def _remove(
        self, rtype: ResourceType, current: dict[str, Any], last_state: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Remove an object and what dies with it (a namespace's objects, a CRD's resources)."""
        meta = current["metadata"]
        if rtype.key == NAMESPACE_KEY:
            for key, objects in self.store.objects_in_namespace(meta["name"]).items():
                for obj in objects:
                    self.store.remove(key, meta["name"], obj["metadata"]["name"])
        if rtype.key == CRD_KEY:
            self.registry.unregister_crd(meta["name"])
            spec = current.get("spec") or {}
            served_key = (spec.get("group", ""), (spec.get("names") or {}).get("plural", ""))
            for obj in self.store.list(served_key):
                self.store.remove(served_key, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        final = self.store.remove(rtype.key, meta.get("namespace", ""), meta["name"], last_state)
        assert final is not None
        return final


def _require_url_name(obj: dict[str, Any], name: str) -> None:
    given = obj["metadata"].get("name", "")
    if given != name:
        raise errors.bad_request(f"the name of the object ({given}) does not match the name on the URL ({name})")


def _encode_continue(namespace: str, name: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([namespace, name]).encode()).decode()


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        namespace, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return (str(namespace), str(name))
    except (ValueError, TypeError) as exc:
        raise errors.bad_request(f'invalid continue token "{token}": {exc}') from exc
