"""Watch events of one source (one list+watch) as one binding sees them: cache, diff, contexts.

`BindingMonitor` (`monitor.py`) keeps one `ObjectCache` per source it subscribed to and feeds it
every `WatchEvent`. The cache keeps each object as the binding needs it (the `object_item`: the
full object only with `keepFullObjectsInMemory`, the `filterResult` only with a `jqFilter`) plus
the checksum of its filter result, and answers with the changes a hook must hear about:

- the first list of a source fills the cache silently (it is the Synchronization, or a namespace
  that started to match, whose objects enter snapshots without events, as upstream);
- a later list (relist after 410, or a restarted shared watch) is diffed against the cache:
  only new, changed and vanished objects produce Added, Modified and Deleted;
- Added and Modified fire only when the object is new or its checksum changed;
- Deleted always fires.
The context builders at the bottom give shell-operator's binding-context shapes (docs/hooks.md,
"Binding contexts").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from addon_operator.hooks.config_model import KubernetesBinding
from addon_operator.hooks.contexts import (
    EVENT, GROUP, SYNCHRONIZATION, BindingContext, Item, object_item,
)
from addon_operator.kube import ADDED, DELETED, MODIFIED, RELIST, SYNC, WatchEvent

from .jqfilter import FilterError, ObjectFilter

WATCH_EVENTS = {ADDED: "Added", MODIFIED: "Modified", DELETED: "Deleted"}


@dataclass(frozen=True, slots=True)
class Entry:
    """One cached object: identity, sort keys, change checksum and what contexts carry."""

    id: str            # namespace/Kind/name, as upstream identifies objects
    namespace: str
    name: str
    checksum: str
    item: Item


@dataclass(frozen=True, slots=True)
class Change:
    """Something a hook may hear about: `watch_event` is Added, Modified or Deleted."""

    watch_event: str
    item: Item


class ObjectCache:
    """The objects of one source, filtered for one binding.

    `api_version` and `kind` are filled into listed objects that lack them (the API leaves them
    out of list items; hooks read `.object.kind`). Filter failures go to `on_error` and leave
    the object out.
    """

    def __init__(self, binding: KubernetesBinding, object_filter: ObjectFilter, *,
                 api_version: str, kind: str, on_error: Callable[[str], None]) -> None:
        self._keep = binding.keep_full_objects_in_memory
        self._filter = object_filter
        self._api_version = api_version
        self._kind = kind
        self._on_error = on_error
        self.entries: dict[str, Entry] = {}
        self.listed = False

    def apply(self, event: WatchEvent) -> list[Change]:
        """Update the cache from `event`; the changes a hook must hear about, in order."""
        if event.type in (SYNC, RELIST):
            return self._apply_list(event.items)
        if not self.listed:
            return []  # a shared watch's events before this source's own first list
        entry = self._entry(event.object)
        if event.type == DELETED:
            key = entry.id if entry else _identity(event.object, self._kind)
            old = self.entries.pop(key, None)
            item = entry.item if entry else (old.item if old else {})
            return [Change("Deleted", item)]
        if entry is None:
            return []
        old = self.entries.get(entry.id)
        self.entries[entry.id] = entry
        if old is not None and old.checksum == entry.checksum:
            return []
        return [Change("Added" if old is None else "Modified", entry.item)]

    def _apply_list(self, items: Iterable[dict[str, Any]]) -> list[Change]:
        fresh: dict[str, Entry] = {}
        for obj in items:
            entry = self._entry(obj)
            if entry is not None:
                fresh[entry.id] = entry
        first, self.listed = not self.listed, True
        old, self.entries = self.entries, fresh
        if first:
            return []
        changes = [Change("Deleted", entry.item) for key, entry in old.items() if key not in fresh]
        for key, entry in fresh.items():
            previous = old.get(key)
            if previous is None:
                changes.append(Change("Added", entry.item))
            elif previous.checksum != entry.checksum:
                changes.append(Change("Modified", entry.item))
        return changes

    def _entry(self, obj: dict[str, Any]) -> Entry | None:
        obj.setdefault("apiVersion", self._api_version)
        obj.setdefault("kind", self._kind)
        try:
            filtered = self._filter.apply(obj)
        except FilterError as exc:
            self._on_error(str(exc))
            return None
        metadata = obj.get("metadata") or {}
        item = object_item(obj, keep_object=self._keep, filtered=self._filter.active,
                           filter_result=filtered.result)
        return Entry(_identity(obj, self._kind), str(metadata.get("namespace") or ""),
                     str(metadata.get("name") or ""), filtered.checksum, item)


def _identity(obj: dict[str, Any], kind: str) -> str:
    metadata = obj.get("metadata") or {}
    namespace, name = metadata.get("namespace") or "", metadata.get("name") or ""
    return f"{namespace}/{obj.get('kind') or kind}/{name}"


def sorted_items(entries: Iterable[Entry], *, keep_full_objects: bool) -> list[Item]:
    """Snapshot and Synchronization order (shell-operator's): by namespace then name; without full
    objects by the `namespace/Kind/name` id, as upstream sorts them."""
    if keep_full_objects:
        ordered = sorted(entries, key=lambda e: (e.namespace, e.name))
    else:
        ordered = sorted(entries, key=lambda e: e.id)
    return [entry.item for entry in ordered]


def event_context(binding: KubernetesBinding, change: Change) -> BindingContext:
    """The context of an Event (a Group context for a grouped binding; snapshots come at run
    time)."""
    if binding.group:
        return BindingContext(binding.name, GROUP, group_name=binding.group)
    return BindingContext(binding.name, EVENT, watch_event=change.watch_event, item=change.item)


def synchronization_context(binding: KubernetesBinding) -> BindingContext:
    """The context of a Synchronization; its objects are read from the cache at run time."""
    if binding.group:
        return BindingContext(binding.name, GROUP, group_name=binding.group)
    return BindingContext(binding.name, SYNCHRONIZATION)
