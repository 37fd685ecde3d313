"""Fault injection for tests: failing requests, latency, pauses, dropped watches, expired history.

Tests call the methods of `Faults` on a running `SandboxServer` (`server.faults`), or POST to
`/sandbox/faults/<action>` (a path no real client uses) when the server runs as a separate
process; the router consults `before_request()` for every other request. Clock and sleep are
injected so rules with durations can be tested without waiting.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, bad_request
from .store import Store

_REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
    409: "Conflict", 410: "Expired", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
    503: "ServiceUnavailable", 504: "Timeout",
}


@dataclass
class _Rule:
    method: str | None
    path: re.Pattern[str]
    status: int = 0
    remaining: int | None = None
    until: float | None = None
    latency: float = 0.0

    def applies(self, method: str, path: str, now: float) -> bool:
        if self.until is not None and now >= self.until:
            return False
        if self.remaining is not None and self.remaining <= 0:
            return False
        return (self.method is None or self.method == method) and self.path.search(path) is not None

    def describe(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path.pattern, "status": self.status,
                "remaining": self.remaining, "latency": self.latency}


class Faults:
    """The active faults of one server."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._failures: list[_Rule] = []
        self._latencies: list[_Rule] = []
        self._running = threading.Event()
        self._running.set()
        self.watch_epoch = 0

    def fail(
        self,
        path: str = ".*",
        *,
        method: str | None = None,
        status: int = 500,
        times: int | None = None,
        seconds: float | None = None,
    ) -> None:
        """Answer matching requests with `status` for `times` requests or `seconds` (else forever)."""
        rule = _Rule(method.upper() if method else None, re.compile(path), status=status, remaining=times,
                     until=self._clock() + seconds if seconds is not None else None)
        with self._lock:
            self._failures.append(rule)

    def add_latency(self, seconds: float, path: str = ".*", *, method: str | None = None) -> None:
        """Delay matching requests by `seconds` before they are served."""
        with self._lock:
            self._latencies.append(_Rule(method.upper() if method else None, re.compile(path), latency=seconds))

    def pause(self) -> None:
        """Requests block (not failing) until `resume()`."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def drop_watches(self) -> None:
        """End every open watch stream (clients see the connection's response end)."""
        with self._store.changed:
            self.watch_epoch += 1
            self._store.changed.notify_all()

    def expire_history(self) -> None:
        """The next watch from any resourceVersion before now gets 410 Gone."""
        self._store.expire_history()

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()
            self._latencies.clear()
        self.resume()

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "paused": not self._running.is_set(),
                "failures": [r.describe() for r in self._failures],
                "latencies": [r.describe() for r in self._latencies],
                "watchEpoch": self.watch_epoch,
            }

    def before_request(self, method: str, path: str) -> None:
        """Block while paused, add latency, then raise `ApiError` if a failure rule matches."""
        self._running.wait()
        now = self._clock()
        with self._lock:
            delay = sum(r.latency for r in self._latencies if r.applies(method, path, now))
            failing = next((r for r in self._failures if r.applies(method, path, now)), None)
            if failing is not None and failing.remaining is not None:
                failing.remaining -= 1
        if delay:
            self._sleep(delay)
        if failing is not None:
            reason = _REASONS.get(failing.status, "InternalError")
            raise ApiError(failing.status, reason, f"injected fault: {method} {path} answered with {failing.status}")

    def handle_http(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /sandbox/faults/<action>` with a JSON body of the method's keyword arguments."""
        actions: dict[str, Callable[[], None]] = {
            "fail": lambda: self.fail(body.get("path", ".*"), method=body.get("method"),
                                      status=int(body.get("status", 500)), times=body.get("times"),
                                      seconds=body.get("seconds")),
            "latency": lambda: self.add_latency(float(body.get("seconds", 0)), body.get("path", ".*"),
                                                method=body.get("method")),
            "pause": self.pause,
            "resume": self.resume,
            "drop-watches": self.drop_watches,
            "expire-history": self.expire_history,
            "clear": self.clear,
        }
        if action not in actions:
            raise bad_request(f'unknown fault action "{action}"; known: {", ".join(sorted(actions))}')
        actions[action]()
        return self.describe()
