"""The list-then-watch algorithm with scripted list and stream calls (no HTTP)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from addon_operator.kube import Gone, KubeError, Listing, NotFound
from addon_operator.kube.errors import NO_RESPONSE
from addon_operator.kube.retry import Backoff
from addon_operator.kube.watching import (
    ADDED, DELETED, MODIFIED, RELIST, SYNC, WatchEvent, list_then_watch, split_lines,
)

BACKOFF = Backoff(random=lambda: 0.5)   # the operator's policy with a fixed jitter


def obj(name: str, rv: int) -> dict[str, Any]:
    return {"metadata": {"name": name, "resourceVersion": str(rv)}}


def ev(type_: str, name: str, rv: int) -> dict[str, Any]:
    return {"type": type_, "object": obj(name, rv)}


class Script:
    """Scripted server: each `open_stream` call takes the next step (a list of raw events, or
    an exception raised on connect); listing returns the next of `listings`."""

    def __init__(self, listings: list[Listing], streams: list[Any], stop: threading.Event):
        self.listings = listings
        self.streams = streams
        self.stop = stop
        self.opened_from: list[str] = []
        self.sleeps: list[float] = []

    def list_objects(self) -> Listing:
        return self.listings.pop(0)

    def open_stream(self, rv: str) -> Iterator[dict[str, Any]]:
        self.opened_from.append(rv)
        if not self.streams:
            self.stop.set()
            return iter(())
        step = self.streams.pop(0)
        if isinstance(step, Exception):
            raise step
        return iter(step)

    def run(self, resource_version: str | None = None) -> list[WatchEvent]:
        return list(list_then_watch(list_objects=self.list_objects, open_stream=self.open_stream,
                                    stop=self.stop, sleep=self.sleeps.append,
                                    resource_version=resource_version, backoff=BACKOFF))


def test_split_lines_reassembles_records_across_chunks() -> None:
    chunks = [b'{"a":', b'1}\n{"b":2}\n\n{"c"', b":3}"]
    assert list(split_lines(chunks)) == [b'{"a":1}', b'{"b":2}', b'{"c":3}']


def test_sync_then_events_then_resume_from_the_last_version() -> None:
    stop = threading.Event()
    script = Script(
        [Listing([obj("a", 3)], "5")],
        [[ev(ADDED, "b", 6), ev(MODIFIED, "a", 7)],       # server ends the watch (timeout)
         [{"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "9"}}}],
         [ev(DELETED, "b", 10)]],
        stop,
    )
    got = script.run()
    assert got[0].type == SYNC
    assert got[0].items == [obj("a", 3)]
    assert got[0].object["metadata"]["resourceVersion"] == "5"
    assert [(e.type, e.object["metadata"]["name"]) for e in got[1:]] == [
        (ADDED, "b"), (MODIFIED, "a"), (DELETED, "b")]
    assert script.opened_from == ["5", "7", "9", "10"], "resumes after the last event/bookmark"
    assert script.sleeps == [], "a normal end of a watch reconnects at once"
    assert got[1].items == []


def test_gone_relists_and_hands_over_the_full_new_list() -> None:
    stop = threading.Event()
    script = Script(
        [Listing([obj("a", 3)], "5"), Listing([obj("a", 3), obj("c", 40)], "41")],
        [[ev(ADDED, "b", 6)], Gone(410, "Expired", "too old"), [ev(MODIFIED, "c", 42)]],
        stop,
    )
    got = script.run()
    assert [e.type for e in got] == [SYNC, ADDED, RELIST, MODIFIED]
    assert [o["metadata"]["name"] for o in got[2].items] == ["a", "c"]
    assert script.opened_from == ["5", "6", "41", "42"]


def test_an_expired_error_event_inside_the_stream_also_relists() -> None:
    stop = threading.Event()
    expired = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired"}}
    script = Script([Listing([], "5"), Listing([], "50")], [[expired]], stop)
    assert [e.type for e in script.run()] == [SYNC, RELIST]


def test_failed_connections_back_off_and_resume_without_losses() -> None:
    stop = threading.Event()
    refused = KubeError(NO_RESPONSE, "ConnectionRefusedError", "refused")
    script = Script(
        [Listing([], "5")],
        [refused, KubeError(500, "InternalError", "boom"), [ev(ADDED, "a", 6)], refused],
        stop,
    )
    got = script.run()
    assert [e.type for e in got] == [SYNC, ADDED]
    assert script.sleeps == [BACKOFF.delay(1), BACKOFF.delay(2), BACKOFF.delay(1)]
    assert script.opened_from == ["5", "5", "5", "6", "6"]


def test_a_throttled_watch_waits_the_retry_after_of_the_server() -> None:
    stop = threading.Event()
    throttled = KubeError(429, "TooManyRequests", "slow down", retry_after=7)
    script = Script([Listing([], "5")], [throttled], stop)
    script.run()
    assert script.sleeps == [7]


def test_starting_from_a_version_skips_the_initial_list() -> None:
    stop = threading.Event()
    script = Script([], [[ev(ADDED, "a", 8)]], stop)
    assert [e.type for e in script.run(resource_version="7")] == [ADDED]
    assert script.opened_from[0] == "7"


def test_non_retryable_errors_reach_the_caller() -> None:
    stop = threading.Event()
    script = Script([Listing([], "1")], [NotFound(404, "NotFound", "no such resource")], stop)
    with pytest.raises(NotFound):
        script.run()


def test_stop_ends_the_generator_between_events() -> None:
    stop = threading.Event()
    script = Script([Listing([], "1")], [[ev(ADDED, "a", 2), ev(ADDED, "b", 3)]], stop)
    watch = list_then_watch(list_objects=script.list_objects, open_stream=script.open_stream,
                            stop=stop, sleep=script.sleeps.append)
    assert next(watch).type == SYNC
    assert next(watch).object["metadata"]["name"] == "a"
    stop.set()
    assert list(watch) == []
