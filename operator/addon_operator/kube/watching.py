"""List-then-watch as a plain generator of events, independent of the HTTP client.

Controllers (Module, GlobalConfig) and hook `kubernetes` bindings consume `list_then_watch()`
through `KubeClient.watch()`. The algorithm is the one client-go's reflector uses: list, remember
the list's resourceVersion, watch from it; on a dropped or timed-out watch resume from the last
resourceVersion seen (bookmarks included), so nothing is lost or repeated; on 410 Gone list
again and hand the caller the full new list to diff. A failed watch request (no answer, 5xx,
429) is reconnected after the delays of the operator's one retry policy (`retry.BACKOFF`). The
list and stream calls and the sleep are injected, which keeps this module free of I/O and
testable with plain iterators.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from addon_operator.kube.errors import Gone, KubeError, error_from_status, retryable
from addon_operator.kube.retry import BACKOFF, Backoff

SYNC = "SYNC"        # first event: the initial list (object is a List with `items`)
RELIST = "RELIST"    # after 410 Gone: the complete new list, replacing everything seen before
ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"


class Listing(NamedTuple):
    """A list call's result: the objects and the collection's resourceVersion."""

    items: list[dict[str, Any]]
    resource_version: str


class WatchEvent(NamedTuple):
    """`(type, object)`. For SYNC and RELIST the object is a `List` (`items` and
    `metadata.resourceVersion`), so a caller treats the initial or renewed state specially."""

    type: str
    object: dict[str, Any]

    @property
    def items(self) -> list[dict[str, Any]]:
        """The listed objects of a SYNC or RELIST event (empty for object events)."""
        return list(self.object.get("items", [])) if self.type in (SYNC, RELIST) else []


ListFn = Callable[[], Listing]
StreamFn = Callable[[str], Iterable[dict[str, Any]]]


def list_event(kind: str, listing: Listing) -> WatchEvent:
    return WatchEvent(kind, {
        "kind": "List",
        "metadata": {"resourceVersion": listing.resource_version},
        "items": listing.items,
    })


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Newline-delimited records from arbitrary chunks (a record may span chunks)."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from (line for line in lines if line.strip())
    if pending.strip():
        yield pending


def list_then_watch(
    *,
    list_objects: ListFn,
    open_stream: StreamFn,
    stop: threading.Event,
    sleep: Callable[[float], None],
    resource_version: str | None = None,
    backoff: Backoff = BACKOFF,
) -> Iterator[WatchEvent]:
    """Yield SYNC (unless started from `resource_version`), then object events, forever.

    `open_stream(rv)` yields raw watch events (`{"type", "object"}`) from `rv` and returns when
    the server ends the watch; it raises `Gone` for an expired version and a retryable
    `KubeError` when the connection fails, which is tried again after `backoff`'s delay for
    the failures in a row (an event received resets the count). Non-retryable errors (403,
    404 ...) propagate. Returns when `stop` is set.
    """
    rv = resource_version or ""
    relist_kind: str | None = SYNC if resource_version is None else None
    failures = 0
    while not stop.is_set():
        try:
            if relist_kind is not None:
                listing = list_objects()
                rv = listing.resource_version
                yield list_event(relist_kind, listing)
                relist_kind = None
            for raw in open_stream(rv):
                failures = 0
                event_type, obj = raw.get("type", ""), raw.get("object") or {}
                if event_type == "ERROR":
                    raise error_from_status(obj, what="watch")
                rv = obj.get("metadata", {}).get("resourceVersion") or rv
                if event_type in (ADDED, MODIFIED, DELETED):
                    yield WatchEvent(event_type, obj)
                if stop.is_set():
                    return
        except Gone:
            relist_kind = RELIST
        except KubeError as exc:
            if not retryable(exc):
                raise
            failures += 1
            if not stop.is_set():
                sleep(backoff.delay(failures, exc))
