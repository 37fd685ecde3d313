"""Shared streams with real threads over a fake watcher: a late joiner makes the stream list
again, the last consumer closes it; a stream thread killed by an unexpected error is reported
by the runtime's `Heartbeats`, a closed one is not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from binding_fakes import CONFIGMAPS, cm, listing

from addon_operator.bindings import WatchHub, WatchKey
from addon_operator.httpserver import Heartbeats
from addon_operator.kube import SYNC, KubeError, WatchEvent


class BlockingWatcher:
    """Each watch call lists the current objects, then blocks until its stop is set."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.ended = threading.Event()

    def watch(self, resource: Any, *, stop: threading.Event, **options: Any
              ) -> Iterator[WatchEvent]:
        self.calls.append(options)
        yield listing(SYNC, cm(f"list-{len(self.calls)}"))
        stop.wait(5)
        self.ended.set()


class Collector:
    def __init__(self) -> None:
        self.events: list[WatchEvent] = []
        self.got = threading.Semaphore(0)

    def on_watch_event(self, key: WatchKey, event: WatchEvent) -> None:
        self.events.append(event)
        self.got.release()

    def on_watch_error(self, key: WatchKey, message: str) -> None:
        raise AssertionError(message)


def test_late_joiner_relists_and_last_consumer_closes() -> None:
    watcher = BlockingWatcher()
    hub = WatchHub(watcher)
    key = WatchKey(CONFIGMAPS, "ns1", "app=x", "metadata.name=a")
    first, second = Collector(), Collector()
    hub.subscribe(key, first)
    assert first.got.acquire(timeout=5)
    assert watcher.calls == [{"namespace": "ns1", "label_selector": "app=x",
                              "field_selector": "metadata.name=a"}]
    hub.subscribe(key, second)
    assert second.got.acquire(timeout=5) and first.got.acquire(timeout=5)
    assert len(watcher.calls) == 2
    assert [e.items[0]["metadata"]["name"] for e in first.events] == ["list-1", "list-2"]
    hub.unsubscribe(key, first)
    assert hub.keys() == [key]
    watcher.ended.clear()
    hub.unsubscribe(key, second)
    assert hub.keys() == [] and watcher.ended.wait(5)


class CrashingWatcher(BlockingWatcher):
    """Watches of the namespace `broken` fail with an unexpected (non-API) error."""

    def watch(self, resource: Any, *, stop: threading.Event, **options: Any
              ) -> Iterator[WatchEvent]:
        if options.get("namespace") == "broken":
            raise RuntimeError("a bug in the client")
        yield from super().watch(resource, stop=stop, **options)


def test_a_stream_thread_that_dies_is_reported_a_closed_one_is_not() -> None:
    watcher, heartbeats = CrashingWatcher(), Heartbeats(60)
    threads: list[threading.Thread] = []
    hub = WatchHub(watcher, spawn=lambda target, name: threads.append(
        heartbeats.start(target, name)))
    broken, fine = WatchKey(CONFIGMAPS, "broken"), WatchKey(CONFIGMAPS, "ns1")
    consumer = Collector()
    hub.subscribe(fine, consumer)
    assert consumer.got.acquire(timeout=5)
    hub.subscribe(broken, Collector())
    threads[1].join(5)
    assert heartbeats.stale() == [f"watch {broken.describe()} (ended)"]
    hub.unsubscribe(fine, consumer)   # the module was disabled: its stream ends on purpose
    threads[0].join(5)
    assert not threads[0].is_alive()
    assert heartbeats.stale() == [f"watch {broken.describe()} (ended)"]



class FlakyWatcher(BlockingWatcher):
    """The first two watches fail with an API error before listing; later ones work."""

    def watch(self, resource: Any, *, stop: threading.Event, **options: Any
              ) -> Iterator[WatchEvent]:
        if len(self.calls) < 2:
            self.calls.append(options)
            raise KubeError(403, "Forbidden", "not allowed yet")
        yield from super().watch(resource, stop=stop, **options)


class ErrorCollector(Collector):
    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []

    def on_watch_error(self, key: WatchKey, message: str) -> None:
        self.errors.append(message)


def test_a_failing_stream_is_reported_and_retried_with_the_retry_policy() -> None:
    sleeps: list[float] = []
    hub = WatchHub(FlakyWatcher(), sleep=sleeps.append)
    key, consumer = WatchKey(CONFIGMAPS, "ns1"), ErrorCollector()
    hub.subscribe(key, consumer)
    assert consumer.got.acquire(timeout=5)
    assert consumer.errors == [f"watch {key.describe()}: 403 Forbidden: not allowed yet"] * 2
    assert len(sleeps) == 2 and 0 < sleeps[0] < sleeps[1], "backs off, by the injected sleep"
    hub.stop()
