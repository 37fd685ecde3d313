"""Binding contexts: what a hook reads from `$BINDING_CONTEXT_PATH`.

The runtime builds one `BindingContext` per reason to run a hook (a lifecycle step, a schedule
tick, a kubernetes Synchronization or Event, a group), combines them per task, and renders the
list in the format the hook's `--config` version asks for (`render_contexts`); `hooks.execute`
writes the rendered list with `dumps_contexts`. Lifecycle bindings have a one-call builder,
`lifecycle_contexts`. The shapes are upstream's (shell-operator's v1 and v0 mappings):

- v1 `onStartup`: `{"binding": "onStartup"}`: no `type`, no `snapshots`;
- v1 `beforeAll`/`afterAll`/`beforeHelm`/`afterHelm`/`beforeDeleteHelm`/`afterDeleteHelm`:
  `{"binding": B, "snapshots": {...}}`: `snapshots` always present (`{}` without kubernetes
  bindings), no `type`;
- v1 `Schedule`: `binding`, `type`, `snapshots` only when the binding includes some;
- v1 `Synchronization`: `binding`, `type`, `objects` (`[]` when empty), optional `snapshots`;
- v1 `Event`: `binding`, `type`, `watchEvent`, the item keys (`object`, `filterResult`) merged in,
  optional `snapshots`;
- v1 `Group`: `binding`, `type`, `groupName`, `snapshots` (no objects, no watchEvent);
- v0: `{"binding": B}`, plus for a kubernetes Event `resourceEvent` (`add`/`update`/`delete`),
  `resourceNamespace`, `resourceKind`, `resourceName`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ON_STARTUP = "onStartup"
LIFECYCLE_BINDINGS = (
    ON_STARTUP,
    "beforeAll",
    "afterAll",
    "beforeHelm",
    "afterHelm",
    "beforeDeleteHelm",
    "afterDeleteHelm",
)
SCHEDULE = "Schedule"
SYNCHRONIZATION = "Synchronization"
EVENT = "Event"
GROUP = "Group"
CONTEXT_TYPES = (SCHEDULE, SYNCHRONIZATION, EVENT, GROUP)

_V0_EVENTS = {"Added": "add", "Modified": "update", "Deleted": "delete"}

Item = dict[str, Any]          # {"object": ..., "filterResult": ...}, each key optional
Snapshots = Mapping[str, Sequence[Item]]


def object_item(
    obj: Mapping[str, Any] | None, *, keep_object: bool = True,
    filtered: bool = False, filter_result: Any = None,
) -> Item:
    """One object as contexts and snapshots carry it.

    `object` is left out when the binding has `keepFullObjectsInMemory: false`; `filterResult`
    is present only when the binding has a `jqFilter` (`filtered`), holding the parsed jq output
    or None when that output was empty or not JSON.
    """
    item: Item = {}
    if keep_object:
        item["object"] = obj
    if filtered:
        item["filterResult"] = filter_result
    return item


@dataclass(frozen=True)
class BindingContext:
    """One reason to run a hook, independent of the format version.

    `type` is None for lifecycle bindings. `snapshots` None means the key is absent (a schedule
    or kubernetes binding without `includeSnapshotsFrom`); lifecycle contexts always render it.
    `objects` is for Synchronization; `watch_event` and `item` for Event; `group_name` for Group.
    """

    binding: str
    type: str | None = None
    snapshots: Snapshots | None = None
    objects: Sequence[Item] = ()
    watch_event: str | None = None
    item: Item | None = None
    group_name: str | None = None

    def __post_init__(self) -> None:
        if self.type is None and self.binding not in LIFECYCLE_BINDINGS:
            raise ValueError(
                f"binding context {self.binding!r}: a context without a type must be one of "
                f"{', '.join(LIFECYCLE_BINDINGS)}"
            )
        if self.type is not None and self.type not in CONTEXT_TYPES:
            raise ValueError(
                f"binding context {self.binding!r}: type {self.type!r} is not one of "
                f"{', '.join(CONTEXT_TYPES)}"
            )
        if self.type == EVENT and self.watch_event not in _V0_EVENTS:
            raise ValueError(
                f"binding context {self.binding!r}: an Event needs watch_event Added, Modified "
                f"or Deleted, got {self.watch_event!r}"
            )
        if self.type == GROUP and not self.group_name:
            raise ValueError(f"binding context {self.binding!r}: a Group needs a group_name")

    def to_v1(self) -> dict[str, Any]:
        if self.type is None:
            if self.binding == ON_STARTUP:
                return {"binding": self.binding}
            return {"binding": self.binding, "snapshots": _snapshots(self.snapshots or {})}
        result: dict[str, Any] = {"binding": self.binding, "type": self.type}
        if self.type == GROUP:
            result["groupName"] = self.group_name
            result["snapshots"] = _snapshots(self.snapshots or {})
            return result
        if self.type == SYNCHRONIZATION:
            result["objects"] = [dict(item) for item in self.objects]
        elif self.type == EVENT:
            result["watchEvent"] = self.watch_event
            result.update(self.item or {})
        if self.snapshots is not None:
            result["snapshots"] = _snapshots(self.snapshots)
        return result

    def to_v0(self) -> dict[str, Any]:
        result: dict[str, Any] = {"binding": self.binding}
        if self.type != EVENT:
            return result
        obj = (self.item or {}).get("object") or {}
        metadata = obj.get("metadata") or {}
        result["resourceEvent"] = _V0_EVENTS[self.watch_event or ""]
        result["resourceNamespace"] = metadata.get("namespace", "")
        result["resourceKind"] = obj.get("kind", "")
        result["resourceName"] = metadata.get("name", "")
        return result


def _snapshots(snapshots: Snapshots) -> dict[str, list[Item]]:
    return {name: [dict(item) for item in items] for name, items in snapshots.items()}


def render_contexts(contexts: Sequence[BindingContext], version: str) -> list[dict[str, Any]]:
    """The list a hook of config `version` ("v0" or "v1") reads, in order."""
    if version == "v1":
        return [context.to_v1() for context in contexts]
    if version == "v0":
        return [context.to_v0() for context in contexts]
    raise ValueError(f"unknown hook config version {version!r}: expected 'v0' or 'v1'")


def lifecycle_contexts(
    binding: str, version: str, snapshots: Snapshots | None = None
) -> list[dict[str, Any]]:
    """The rendered one-element list for a lifecycle run (`snapshots`: the hook's kubernetes
    snapshots, if it has kubernetes bindings)."""
    if binding not in LIFECYCLE_BINDINGS:
        raise ValueError(
            f"{binding!r} is not a lifecycle binding: "
            f"expected one of {', '.join(LIFECYCLE_BINDINGS)}"
        )
    return render_contexts([BindingContext(binding, snapshots=snapshots)], version)


def dumps_contexts(contexts: Sequence[Mapping[str, Any]]) -> str:
    """The `$BINDING_CONTEXT_PATH` file text: a compact JSON array, keys sorted, newline-ended."""
    return json.dumps(
        list(contexts), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ) + "\n"
