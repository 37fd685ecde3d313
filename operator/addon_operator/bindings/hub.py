"""Shared list+watch streams: one per distinct (resource, namespace, selectors).

Binding monitors (`monitor.py`) `subscribe()` a consumer to a `WatchKey`; the hub runs one
thread per key that iterates `KubeClient.watch()` (list, watch, resume from the last
resourceVersion, relist after 410) and hands every `WatchEvent` to every consumer of the key.
The hub keeps no objects: a consumer that joins a running stream makes the stream list again
(a fresh list reaches the new consumer as its first list and the others as a relist, which
their checksum caches turn into no events when nothing changed). A failing stream (the resource
type vanished, access denied) is reported to its consumers and restarted after the delays of the
operator's one retry policy (`kube.retry.watch_forever`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from addon_operator.kube import KubeError, Resource, WatchEvent
from addon_operator.kube.retry import Sleep, watch_forever

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchKey:
    """What one shared stream watches (`namespace` None: all namespaces or cluster-scoped)."""

    resource: Resource
    namespace: str | None = None
    label_selector: str = ""
    field_selector: str = ""

    def describe(self) -> str:
        where = self.resource.describe(namespace=self.namespace)
        selectors = ", ".join(s for s in (self.label_selector, self.field_selector) if s)
        return f"{where} ({selectors})" if selectors else where


class Watcher(Protocol):
    """The part of `KubeClient` the hub needs."""

    def watch(self, resource: Resource, *, stop: threading.Event,
              resource_version: str | None = ..., namespace: str | None = ...,
              label_selector: str | None = ..., field_selector: str | None = ...
              ) -> Iterator[WatchEvent]: ...


class Consumer(Protocol):
    def on_watch_event(self, key: WatchKey, event: WatchEvent) -> None: ...

    def on_watch_error(self, key: WatchKey, message: str) -> None: ...


# spawn(target, name): run `target` in a new thread (the runtime's `Heartbeats.start`, so that
# /healthz reports a stream thread killed by an unexpected exception; a closed stream returns).
Spawn = Callable[[Callable[[], None], str], object]


def daemon_thread(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


class _Stream:
    def __init__(self, key: WatchKey, watcher: Watcher, sleep: Sleep | None = None) -> None:
        self.key = key
        self._watcher = watcher
        self._sleep = sleep
        self._lock = threading.Lock()
        self._consumers: list[Consumer] = []
        self._closed = threading.Event()
        self._attempt = threading.Event()  # set: end the current list+watch and list again

    def add(self, consumer: Consumer) -> None:
        with self._lock:
            self._consumers.append(consumer)
            self._attempt.set()  # the newcomer needs a list of its own

    def remove(self, consumer: Consumer) -> bool:
        """Forget `consumer`; True when the stream has no consumers left (and is closed)."""
        with self._lock:
            self._consumers = [c for c in self._consumers if c is not consumer]
            if self._consumers:
                return False
            self._closed.set()
            self._attempt.set()
            return True

    def close(self) -> None:
        with self._lock:
            self._consumers = []
            self._closed.set()
            self._attempt.set()

    def run(self) -> None:
        key = self.key

        def open_watch(attempt: int) -> Iterator[WatchEvent]:
            with self._lock:
                self._attempt = stop = threading.Event()
                if self._closed.is_set():   # closed meanwhile: the new watch ends at once
                    stop.set()
            return self._watcher.watch(
                key.resource, stop=stop, namespace=key.namespace,
                label_selector=key.label_selector or None,
                field_selector=key.field_selector or None)

        def handle(event: WatchEvent) -> None:
            self._dispatch(lambda c: c.on_watch_event(key, event))

        def failed(exc: BaseException, delay: float) -> None:
            message = f"watch {key.describe()}: {exc}"
            self._dispatch(lambda c: c.on_watch_error(key, message))

        watch_forever(open_watch, handle, stop=self._closed, what=f"watch {key.describe()}",
                      sleep=self._sleep, retry_on=KubeError, on_failure=failed)

    def _dispatch(self, call: Callable[[Consumer], None]) -> None:
        with self._lock:
            consumers = list(self._consumers)
        for consumer in consumers:
            try:
                call(consumer)
            except Exception:  # a consumer's bug must not end the stream of the others
                log.exception("watch %s: a consumer failed on an event", self.key.describe())


class WatchHub:
    """All shared streams of one operator process (thread-safe)."""

    def __init__(self, watcher: Watcher, *, spawn: Spawn = daemon_thread,
                 sleep: Sleep | None = None) -> None:
        """`sleep` waits out a failed stream's retry delay (default: until the stream is
        closed, at most the delay)."""
        self._watcher = watcher
        self._spawn = spawn
        self._sleep = sleep
        self._lock = threading.Lock()
        self._streams: dict[WatchKey, _Stream] = {}

    def subscribe(self, key: WatchKey, consumer: Consumer) -> None:
        """Deliver `key`'s events to `consumer`, starting with a list of its own."""
        with self._lock:
            stream = self._streams.get(key)
            if stream is None:
                stream = self._streams[key] = _Stream(key, self._watcher, self._sleep)
                stream.add(consumer)
                self._spawn(stream.run, f"watch {key.describe()}")
            else:
                stream.add(consumer)

    def unsubscribe(self, key: WatchKey, consumer: Consumer) -> None:
        with self._lock:
            stream = self._streams.get(key)
            if stream is not None and stream.remove(consumer):
                del self._streams[key]

    def keys(self) -> list[WatchKey]:
        """The keys of the running streams."""
        with self._lock:
            return list(self._streams)

    def stop(self) -> None:
        with self._lock:
            streams, self._streams = list(self._streams.values()), {}
        for stream in streams:
            stream.close()
