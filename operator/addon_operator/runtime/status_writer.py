"""Writing Module and GlobalConfig statuses: only through the status subresource, only changes.

The handlers and controllers call `StatusWriter.module(runtime)` / `.global_config()` whenever
the state may have changed; the writer builds the full status with `status.build_*`, compares it
with what it wrote last (or read at start) and sends nothing when it is equal, so a status
write never causes another (and status writes do not bump `metadata.generation`, so the
controllers ignore them). The status builders produce a complete document; it is sent as a
merge patch that also deletes the top-level keys that disappeared (`release` after an
uninstall). API errors are logged and the object is remembered: `retry_failed()` (called
periodically by the operator's main loop) writes it again, so an API outage during the last write
of a run does not leave a stale status behind.
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
        self._failed: set[tuple[str, str]] = set()   # (resource plural, object name)

    def module(self, runtime: ModuleRuntime) -> None:
        """Write the Module's status if it changed."""
        with self._lock:
            new = build_module_status(runtime.status, runtime.written_status, self._now())
            if self._write(MODULES, runtime.name, runtime.written_status, new):
                runtime.written_status = new

    def global_config(self) -> None:
        """Write GlobalConfig/global's status (with fresh module counts) if it changed."""
        with self._lock:
            g = self._state.global_
            g.status.modules = module_counts(
                rt.written_status for rt in self._state.known() if rt.written_status)
            new = build_global_status(g.status, g.written_status, self._now())
            if self._write(GLOBAL_CONFIGS, GLOBAL_NAME, g.written_status, new):
                g.written_status = new

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
        Takes the writer's lock: a write finishing meanwhile cannot put the old status back."""
        with self._lock:
            owner.written_status = None

    def _write(self, resource: Resource, name: str, old: dict[str, Any] | None,
               new: dict[str, Any]) -> bool:
        if not status_changed(old, new):
            self._failed.discard((resource.plural, name))
            return False
        try:
            self._kube.patch_status(resource, name, merge_patch(old, new))
        except NotFound:
            log.debug("%s is gone; its status is not written", resource.describe(name))
            self._failed.discard((resource.plural, name))
            return False
        except KubeError as exc:
            log.warning("cannot write the status of %s (retried shortly): %s",
                        resource.describe(name), exc)
            self._failed.add((resource.plural, name))
            return False
        self._failed.discard((resource.plural, name))
        return True
