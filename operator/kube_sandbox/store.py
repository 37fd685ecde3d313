"""The in-memory object store: one global resourceVersion counter and a bounded change history.

`Api` (api.py) is the only writer; watches (watch.py) read the history and wait on `changed`.
Stored objects are never mutated after `put`: writers build a new dict, readers may serialise the
stored one without copying (that keeps list and watch of 10,000 objects cheap).
"""

from __future__ import annotations

import bisect
import builtins
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .resources import StoreKey

ObjectKey = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects


@dataclass(frozen=True)
class Change:
    """One entry of the history: what a watch replays."""

    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    key: StoreKey
    obj: dict[str, Any]
    previous: dict[str, Any] | None = None  # the state before a MODIFIED change


class HistoryExpired(Exception):
    """The requested resourceVersion is older than the retained history."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


def object_key(obj: dict[str, Any]) -> ObjectKey:
    meta = obj["metadata"]
    return (meta.get("namespace", ""), meta["name"])


class Store:
    """Objects per resource, the global resourceVersion and the history window."""

    def __init__(self, history_size: int = 10_000) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.history_size = max(1, history_size)
        self._objects: dict[StoreKey, dict[ObjectKey, dict[str, Any]]] = {}
        self._order: dict[StoreKey, list[ObjectKey]] = {}  # sorted keys per resource
        self._rv = 0
        self._history: list[Change] = []
        self._history_rvs: list[int] = []
        self._complete_after = 0  # the history holds every change with rv > this
        self.listeners: list[Callable[[], None]] = []

    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, key: StoreKey, namespace: str, name: str) -> dict[str, Any] | None:
        return self._objects.get(key, {}).get((namespace, name))

    def list(self, key: StoreKey, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects sorted by (namespace, name), like etcd key order; `None` means all namespaces."""
        with self.lock:
            bucket = self._objects.get(key, {})
            order = self._order.get(key, [])
            if namespace is None:
                return [bucket[k] for k in order]
            low = bisect.bisect_left(order, (namespace,))
            high = bisect.bisect_left(order, (namespace + "\x00",))
            return [bucket[k] for k in order[low:high]]

    def objects_in_namespace(self, namespace: str) -> dict[StoreKey, builtins.list[dict[str, Any]]]:
        """Every stored object of `namespace`, per resource (what deleting it removes)."""
        with self.lock:
            return {key: self.list(key, namespace) for key in list(self._objects)}

    def put(self, key: StoreKey, obj: dict[str, Any], change_type: str) -> dict[str, Any]:
        """Store `obj` (ADDED or MODIFIED) under a new resourceVersion; returns the stored object."""
        with self.lock:
            self._rv += 1
            stored = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self._rv)}}
            bucket = self._objects.setdefault(key, {})
            okey = object_key(stored)
            previous = bucket.get(okey)
            if previous is None:
                bisect.insort(self._order.setdefault(key, []), okey)
            bucket[okey] = stored
            self._record(Change(self._rv, change_type, key, stored, previous))
            return stored

    def remove(
        self, key: StoreKey, namespace: str, name: str, last_state: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """Delete an object; the DELETED change carries the deletion's resourceVersion and
        `last_state` when given (an update that removed the last finalizer), else the stored one."""
        with self.lock:
            current = self._objects.get(key, {}).pop((namespace, name), None)
            if current is None:
                return None
            order = self._order[key]
            del order[bisect.bisect_left(order, (namespace, name))]
            self._rv += 1
            last = last_state or current
            final = {**last, "metadata": {**last["metadata"], "resourceVersion": str(self._rv)}}
            self._record(Change(self._rv, "DELETED", key, final))
            return final

    def changes_after(self, rv: int) -> builtins.list[Change]:
        """Every change with a resourceVersion greater than `rv`, or `HistoryExpired`."""
        with self.lock:
            if rv < self._complete_after:
                raise HistoryExpired(rv, self._complete_after + 1)
            start = bisect.bisect_right(self._history_rvs, rv)
            return self._history[start:]

    def expire_history(self) -> None:
        """Forget all history: a watch from any resourceVersion before now gets 410 Gone."""
        with self.lock:
            self._history.clear()
            self._history_rvs.clear()
            self._complete_after = self._rv

    def _record(self, change: Change) -> None:
        self._history.append(change)
        self._history_rvs.append(change.rv)
        if len(self._history) > 2 * self.history_size:
            cut = len(self._history) - self.history_size
            self._complete_after = self._history_rvs[cut - 1]
            del self._history[:cut]
            del self._history_rvs[:cut]
        self.changed.notify_all()
        for listener in self.listeners:
            listener()

    def dump(self) -> dict[str, Any]:
        """The whole state as plain data (persist.py writes it as JSON)."""
        with self.lock:
            return {
                "resourceVersion": self._rv,
                "objects": [
                    {"group": key[0], "plural": key[1], "object": obj}
                    for key, bucket in self._objects.items()
                    for obj in bucket.values()
                ],
            }

    def restore(self, state: dict[str, Any]) -> None:
        """Load a `dump()`; history starts empty, so watches from older versions get 410."""
        with self.lock:
            self._objects.clear()
            for entry in state.get("objects", []):
                key = (entry["group"], entry["plural"])
                self._objects.setdefault(key, {})[object_key(entry["object"])] = entry["object"]
            self._order = {key: sorted(bucket) for key, bucket in self._objects.items()}
            self._rv = int(state.get("resourceVersion", 0))
            self.expire_history()
