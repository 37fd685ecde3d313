"""Pure rules for how a write changes an object's system fields, as the API server applies them.

`Api` (api.py) calls these on create, update, patch and delete: system metadata on create, what a
client may not change on update, the status-subresource split, `generation` bumps, kind-specific
initialisation (Namespace phase, Secret type, CRD status), name validation and no-op detection.
"""

from __future__ import annotations

import base64
import re
import uuid
from datetime import datetime, timezone
from typing import Any

from . import crds
from .resources import ResourceType

SYSTEM_METADATA = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def name_errors(rtype: ResourceType, name: str) -> list[str]:
    """Why `name` is not a valid object name for `rtype` (empty list: it is valid)."""
    if not name:
        return ["metadata.name: Required value: name or generateName is required"]
    if rtype.path_segment_names:
        if name in (".", "..") or "/" in name or "%" in name:
            return [f'metadata.name: Invalid value: "{name}": may not contain "/" or "%" or be "." or ".."']
        return []
    pattern, what = (_LABEL, "RFC 1123 label") if rtype.kind == "Namespace" else (_SUBDOMAIN, "RFC 1123 subdomain")
    if len(name) > 253 or not pattern.fullmatch(name):
        return [
            f'metadata.name: Invalid value: "{name}": a lowercase {what} must consist of lower case '
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        ]
    return []


def initialise(rtype: ResourceType, obj: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The object as created: system metadata set, status dropped where a subresource owns it,
    and the defaults the API server fills in for some built-in kinds."""
    meta = {k: v for k, v in obj["metadata"].items() if k not in SYSTEM_METADATA and k != "resourceVersion"}
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = rfc3339(now)
    if rtype.tracks_generation:
        meta["generation"] = 1
    result = {**obj, "metadata": meta}
    if rtype.status_subresource:
        result.pop("status", None)
    return kind_defaults(rtype, result, now)


def kind_defaults(rtype: ResourceType, obj: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Fields the API server (or its always-running controllers) sets for particular kinds."""
    if rtype.group == "" and rtype.kind == "Namespace":
        labels = {**(obj["metadata"].get("labels") or {}), "kubernetes.io/metadata.name": obj["metadata"]["name"]}
        spec = {"finalizers": ["kubernetes"], **(obj.get("spec") or {})}
        return {**obj, "metadata": {**obj["metadata"], "labels": labels}, "spec": spec,
                "status": {"phase": "Active"}}
    if rtype.group == "" and rtype.kind == "Secret":
        return {"type": "Opaque", **obj}
    if rtype.group == "" and rtype.kind == "Service":
        return {**obj, "spec": {"type": "ClusterIP", **(obj.get("spec") or {})}}
    if rtype.group == "apiextensions.k8s.io":
        crd = crds.defaulted(obj)
        if crds.validate(crd):
            return crd  # admission refuses it with the reasons
        return {**crd, "status": crds.status_for(crd, rfc3339(now))}
    return obj


def on_write(rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """Conversions the API server applies to every write of a kind: a Secret's `stringData`
    is merged into `data` (base64) and never stored."""
    if rtype.group == "" and rtype.kind == "Secret" and "stringData" in obj:
        encoded = {k: base64.b64encode(str(v).encode()).decode() for k, v in (obj["stringData"] or {}).items()}
        data = {**(obj.get("data") or {}), **encoded}
        return {**{k: v for k, v in obj.items() if k != "stringData"}, "data": data}
    return obj


def carry_over(
    rtype: ResourceType, current: dict[str, Any], body: dict[str, Any], subresource: str
) -> dict[str, Any]:
    """The object after an update of `current` with `body` (main resource or `status`)."""
    if subresource == "status":
        result = {k: v for k, v in current.items() if k != "status"}
        if body.get("status") is not None:
            result["status"] = body["status"]
        return result
    meta = dict(body.get("metadata") or {})
    for field in SYSTEM_METADATA + ("name", "namespace"):
        if field in current["metadata"]:
            meta[field] = current["metadata"][field]
        else:
            meta.pop(field, None)
    if "managedFields" not in meta and "managedFields" in current["metadata"]:
        meta["managedFields"] = current["metadata"]["managedFields"]
    result = {**body, "metadata": meta}
    if rtype.status_subresource:
        result.pop("status", None)
        if "status" in current:
            result["status"] = current["status"]
    return result


def with_generation(rtype: ResourceType, current: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Bump `metadata.generation` when the desired state changed: everything except metadata and
    status for kinds with a status subresource, everything except metadata otherwise."""
    if not rtype.tracks_generation:
        return new
    ignored = ("metadata", "status") if rtype.status_subresource else ("metadata",)
    before = {k: v for k, v in current.items() if k not in ignored}
    after = {k: v for k, v in new.items() if k not in ignored}
    generation = int(current["metadata"].get("generation") or 1)
    if before != after:
        generation += 1
    return {**new, "metadata": {**new["metadata"], "generation": generation}}


def mark_deleting(rtype: ResourceType, current: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Graceful deletion of an object with finalizers: deletionTimestamp set, generation bumped."""
    meta = {**current["metadata"], "deletionTimestamp": rfc3339(now), "deletionGracePeriodSeconds": 0}
    if rtype.tracks_generation:
        meta["generation"] = int(meta.get("generation") or 1) + 1
    return {**current, "metadata": meta}


def finalizer_errors(current: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """An object being deleted may lose finalizers but not gain new ones."""
    if not current["metadata"].get("deletionTimestamp"):
        return []
    added = set(new["metadata"].get("finalizers") or []) - set(current["metadata"].get("finalizers") or [])
    if added:
        return [
            "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, "
            f"found new finalizers {sorted(added)}"
        ]
    return []


def comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` without what every write changes (resourceVersion, managedFields timestamps), so an
    update that changes nothing else is recognised as a no-op and stores nothing."""
    meta = {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}
    if "managedFields" in meta:
        meta["managedFields"] = [{k: v for k, v in e.items() if k != "time"} for e in meta["managedFields"]]
    return {**obj, "metadata": meta}
