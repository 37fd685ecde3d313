"""Kubernetes Events (core/v1) about Module and GlobalConfig objects, as plain dicts.

The runtime reports Helm actions and hook failures as Events so `kubectl describe module X`
shows them. This module builds the Event body and the key under which identical events are
aggregated (one Event whose `count` grows, as kubelet's recorder does); `KubeClient.post_event()`
does the create or patch.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

NORMAL = "Normal"
WARNING = "Warning"
MESSAGE_LIMIT = 1024  # the API server rejects longer event messages in some versions

EventKey = tuple[str, str, str, str, str, str]


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, second precision (what `firstTimestamp` holds)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def involved_reference(obj: dict[str, Any]) -> dict[str, Any]:
    """The `involvedObject` pointing at `obj` (apiVersion, kind, name, uid, namespace)."""
    meta = obj.get("metadata", {})
    ref = {
        "apiVersion": obj.get("apiVersion", ""),
        "kind": obj.get("kind", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
    }
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    if meta.get("resourceVersion"):
        ref["resourceVersion"] = meta["resourceVersion"]
    if not ref["kind"] or not ref["name"]:
        raise ValueError(f"an Event needs an involved object with kind and metadata.name; "
                         f"got kind={ref['kind']!r} name={ref['name']!r}")
    return ref


def aggregation_key(
    ref: dict[str, Any], type_: str, reason: str, message: str, component: str
) -> EventKey:
    """Events with equal keys are one Event with a growing `count`."""
    return (ref["kind"], ref.get("namespace", ""), ref["name"], ref["uid"],
            f"{type_}/{reason}/{component}", message)


def event_name(involved_name: str, nanos: int, serial: int) -> str:
    """A unique, valid Event name derived from the involved object (`<name>.<hex>`)."""
    base = re.sub(r"[^a-z0-9.-]", "-", involved_name.lower())[:200].strip(".-") or "object"
    return f"{base}.{nanos:x}.{serial:x}"


def event_body(
    ref: dict[str, Any],
    *,
    name: str,
    namespace: str,
    type_: str,
    reason: str,
    message: str,
    component: str,
    now: datetime,
) -> dict[str, Any]:
    """A complete core/v1 Event, first seen now, count 1."""
    if type_ not in (NORMAL, WARNING):
        raise ValueError(f"Event type must be {NORMAL!r} or {WARNING!r}, got {type_!r}")
    seen = timestamp(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": ref,
        "type": type_,
        "reason": reason,
        "message": message[:MESSAGE_LIMIT],
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": component,
        "firstTimestamp": seen,
        "lastTimestamp": seen,
        "count": 1,
    }
