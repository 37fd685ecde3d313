"""The watch verb: a stream of ADDED/MODIFIED/DELETED/BOOKMARK/ERROR events for one resource.

The router (router.py) calls `events()` and writes each event as one chunk. Semantics follow the
API server's watch cache: no resourceVersion (or "0") sends the current state as ADDED first; a
resourceVersion replays the retained history after it, or ends with an ERROR event carrying a
410 `Expired` Status when that history is gone; an object that stops (starts) matching the
selectors is reported as DELETED (ADDED); `sendInitialEvents=true` ends the initial state with a
bookmark annotated `k8s.io/initial-events-end`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import errors
from .api import present
from .resources import ResourceType
from .selectors import Matcher
from .store import Change, HistoryExpired, Store

Event = dict[str, Any]


@dataclass(frozen=True)
class WatchRequest:
    """What a client asked for (query parameters of `?watch=true`)."""

    rtype: ResourceType
    namespace: str | None
    match: Matcher
    resource_version: str = ""
    timeout: float | None = None
    bookmarks: bool = False
    send_initial_events: bool = False


def _expired(exc: HistoryExpired) -> Event:
    status = errors.gone(f"too old resource version: {exc.requested} ({exc.oldest})").status()
    return {"type": "ERROR", "object": status}


def _bookmark(rtype: ResourceType, rv: int, initial_end: bool = False) -> Event:
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"type": "BOOKMARK", "object": {"kind": rtype.kind, "apiVersion": rtype.api_version, "metadata": meta}}


def _translate(req: WatchRequest, change: Change) -> Event | None:
    """The event this client sees for one change, or None when it does not concern it."""
    if change.key != req.rtype.key:
        return None
    if req.namespace is not None and change.obj["metadata"].get("namespace", "") != req.namespace:
        return None
    now_matches = req.match(change.obj)
    if change.type == "MODIFIED":
        before = change.previous is not None and req.match(change.previous)
        if before and not now_matches:
            return {"type": "DELETED", "object": present(req.rtype, change.obj)}
        if now_matches and not before:
            return {"type": "ADDED", "object": present(req.rtype, change.obj)}
    if not now_matches:
        return None
    return {"type": change.type, "object": present(req.rtype, change.obj)}


def parse_resource_version(value: str) -> int:
    try:
        rv = int(value)
    except ValueError:
        raise errors.bad_request(f'invalid resourceVersion "{value}": must be an integer') from None
    if rv < 0:
        raise errors.bad_request(f'invalid resourceVersion "{value}": must not be negative')
    return rv


def events(
    store: Store,
    req: WatchRequest,
    *,
    should_stop: Callable[[], bool],
    bookmark_interval: float,
    clock: Callable[[], float] = time.monotonic,
    poll: float = 0.5,
) -> Iterator[Event]:
    """Yield events until the timeout passes, `should_stop()` turns true or history expires."""
    initial: list[Event] = []
    with store.lock:
        if req.resource_version in ("", "0") or req.send_initial_events:
            for obj in store.list(req.rtype.key, req.namespace):
                if req.match(obj):
                    initial.append({"type": "ADDED", "object": present(req.rtype, obj)})
            last = store.resource_version
        else:
            last = parse_resource_version(req.resource_version)
    yield from initial
    if req.send_initial_events and req.bookmarks:
        yield _bookmark(req.rtype, last, initial_end=True)
    started = clock()
    deadline = started + req.timeout if req.timeout else None
    next_bookmark = started + bookmark_interval
    while True:
        now = clock()
        if deadline is not None and now >= deadline:
            return
        with store.changed:
            # Checked under the store lock: a change written after `drop_watches()` (which takes
            # the lock) is never delivered on a stream that should have ended before it.
            if should_stop():
                return
            try:
                changes = store.changes_after(last)
            except HistoryExpired as exc:
                yield _expired(exc)
                return
            if not changes:
                waits = [poll, next_bookmark - now] + ([deadline - now] if deadline is not None else [])
                store.changed.wait(max(0.0, min(waits)))
        for change in changes:
            last = change.rv
            if (event := _translate(req, change)) is not None:
                yield event
        if req.bookmarks and clock() >= next_bookmark:
            next_bookmark = clock() + bookmark_interval
            yield _bookmark(req.rtype, last)
