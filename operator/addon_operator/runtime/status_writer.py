"""Writing Module and GlobalConfig statuses: only through the status subresource, only changes.

The handlers and controllers call `StatusWriter.module(runtime)` / `.global_config()` whenever
the state may have changed; the writer builds the full status with `status.build_*`, compares it
with what it wrote last (or read at start) and sends nothing when it is equal, so a status
write never causes another (and status writes do not bump `metadata.generation`, so the
controllers ignore them). The status builders produce a complete document; it is sent as a
merge patch that also deletes the top-level keys that disappeared (`release` after an
uninstall).

No lock is held across the API call. The writer's lock only guards its bookkeeping: which
object has a write in flight, which was asked for again meanwhile, and what was written. One
object has at most one write in flight; a caller that finds one in flight leaves a note and
returns, and the writing thread builds the status again from the newest state once its PATCH
returns, so the last write of an object always carries its newest status, in order. API errors
are logged and the object is remembered: `retry_failed()` (called periodically by the
operator's main loop) writes it again, so an API outage during the last write of a run does not
leave a stale status behind.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Protocol

from addon_operator.kube import GLOBAL_CONFIGS, MODULES, KubeError, NotFound, Resource
from addon_operator.status import (
    build_global_status, build_module_status, module_counts, status_changed,
)

from .state import GlobalRuntime, ModuleRuntime, RuntimeState

log = logging.getLogger(__name__)

GLOBAL_NAME = "global"
Key = tuple[str, str]   # (resource plural, object name)


class StatusPort(Protocol):
    def patch_status(self, resource: Resource, name: str, status: dict[str, Any], *,
                     namespace: str | None = ...) -> dict[str, Any]: ...


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def merge_patch(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A merge patch turning status `old` into `new` (lists are replaced whole by a merge
    patch, so `conditions` and `hooks` need nothing special; vanished keys become null)."""
    removed = {key: None for key in (old or {}) if key not in new}
    return {**removed, **new}


class StatusWriter:
    def __init__(self, kube: StatusPort, state: RuntimeState,
                 now: Callable[[], datetime] = _utcnow) -> None:
        self._kube = kube
        self._state = state
        self._now = now
        self._lock = threading.Lock()
        self._failed: set[Key] = set()
        self._in_flight: set[Key] = set()
        self._again: set[Key] = set()           # asked for while a write was in flight
        self._epochs: dict[Key, int] = {}       # bumped by `forget`

    def module(self, runtime: ModuleRuntime) -> None:
        """Write the Module's status if it changed."""
        self._sync(MODULES, runtime.name, runtime, lambda: build_module_status(
            runtime.status, runtime.written_status, self._now()))

    def global_config(self) -> None:
        """Write GlobalConfig/global's status (with fresh module counts) if it changed."""
        g = self._state.global_

        def build() -> dict[str, Any]:
            g.status.modules = module_counts(
                rt.written_status for rt in self._state.known() if rt.written_status)
            return build_global_status(g.status, g.written_status, self._now())

        self._sync(GLOBAL_CONFIGS, GLOBAL_NAME, g, build)

    def retry_failed(self) -> None:
        """Write again every status whose last write failed with an API error."""
        with self._lock:
            failed, self._failed = self._failed, set()
        for plural, name in sorted(failed):
            runtime = self._state.modules.get(name) if plural == MODULES.plural else None
            if runtime is not None:
                self.module(runtime)
            elif plural == GLOBAL_CONFIGS.plural:
                self.global_config()

    def forget(self, owner: ModuleRuntime | GlobalRuntime) -> None:
        """Forget what was written for a deleted object, so its next status is written in full.
        A write in flight meanwhile does not put the old status back when it returns."""
        key = ((MODULES.plural, owner.name) if isinstance(owner, ModuleRuntime)
               else (GLOBAL_CONFIGS.plural, GLOBAL_NAME))
        with self._lock:
            owner.written_status = None
            self._epochs[key] = self._epochs.get(key, 0) + 1

    def _sync(self, resource: Resource, name: str, owner: ModuleRuntime | GlobalRuntime,
              build: Callable[[], dict[str, Any]]) -> None:
        """Bring the object's status up to date: build, compare, PATCH outside the lock; again
        while someone asked for it during the PATCH."""
        key = (resource.plural, name)
        with self._lock:
            if key in self._in_flight:
                self._again.add(key)
                return
            self._in_flight.add(key)
        try:
            while True:
                with self._lock:
                    self._again.discard(key)
                    old, epoch = owner.written_status, self._epochs.get(key, 0)
                    new = build()
                    if not status_changed(old, new):
                        self._failed.discard(key)
                        return
                written = self._patch(resource, name, merge_patch(old, new))
                with self._lock:
                    if written and self._epochs.get(key, 0) == epoch:
                        owner.written_status = new
                    if key not in self._again:
                        return
        finally:
            with self._lock:
                self._in_flight.discard(key)

    def _patch(self, resource: Resource, name: str, patch: dict[str, Any]) -> bool:
        """Send one status patch; True when the API server took it."""
        key = (resource.plural, name)
        try:
            self._kube.patch_status(resource, name, patch)
        except NotFound:
            log.debug("%s is gone; its status is not written", resource.describe(name))
            outcome = False
        except KubeError as exc:
            log.warning("cannot write the status of %s (retried shortly): %s",
                        resource.describe(name), exc)
            with self._lock:
                self._failed.add(key)
            return False
        else:
            outcome = True
        with self._lock:
            self._failed.discard(key)
        return outcome
