"""The Module and GlobalConfig controllers: list-then-watch, turning spec changes into requests.

`Controllers.seed()` runs once before the first converge: it creates a `Module` object with an
empty spec for every discovered module that has none and `GlobalConfig/global` if missing, reads
every object's spec and current status into the state, and returns the resourceVersions the
watches start from. `start()` then runs one watch thread per kind (`KubeClient.watch`: resumes
after disconnects, relists after 410 Gone). Only a change of `metadata.generation` counts, so
the operator's own status writes never trigger work:

- a Module change asks for a targeted converge of that module (settings, `enabled` and
  `suspend` all go through enablement); a deleted Module resets the module to its defaults and
  is created again, empty, so `kubectl get modules` keeps listing every module;
- a GlobalConfig change asks for a full converge.
Settings are checked against the config schema as a spec is applied (`state.take_settings`),
so `SettingsValid` is true for the generation it is stamped with from the moment that
generation is seen: invalid ones are kept for the status only (and that decision is the
generation's observed one), the values go on with the last good ones.
A watch that fails in any way is logged and started again, from a fresh list, after the retry
policy's pause (`kube.retry`);
the watch threads are started by `Heartbeats.start`, so one that dies anyway is reported by
`/healthz`, while one that ends because the operator stops is not. The operator never writes
spec.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, Protocol

from addon_operator.httpserver import Heartbeats
from addon_operator.metrics import OperatorMetrics
from addon_operator.kube import watch_forever
from addon_operator.kube import (
    DELETED, GLOBAL_CONFIGS, MODULES, RELIST, SYNC, Conflict, KubeError, Listing, Resource,
    WatchEvent,
)

from .state import ModuleRuntime, Request, RuntimeState, take_settings
from .status_writer import GLOBAL_NAME, StatusWriter

log = logging.getLogger(__name__)

API_VERSION = "addon-operator.io/v1alpha1"


class ControllerPort(Protocol):
    """What the controllers need from `kube.KubeClient`."""

    def list(self, resource: Resource) -> Listing: ...
    def create(self, resource: Resource, obj: dict[str, Any]) -> dict[str, Any]: ...
    def watch(self, resource: Resource, *, stop: threading.Event,
              resource_version: str | None = None) -> Iterator[WatchEvent]: ...


def empty_object(kind: str, name: str) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": {}}


class Controllers:
    def __init__(self, kube: ControllerPort, state: RuntimeState, writer: StatusWriter, *,
                 request: Callable[[Request], None], stop: threading.Event,
                 sleep: Callable[[float], None], metrics: OperatorMetrics,
                 heartbeats: Heartbeats | None = None) -> None:
        self._kube = kube
        self._metrics = metrics
        self._state = state
        self._writer = writer
        self._request = request
        self._stop = stop
        self._sleep = sleep
        # Without the process's Heartbeats (tests), a private one nobody asks.
        self._heartbeats = heartbeats if heartbeats is not None else Heartbeats(math.inf)
        self._threads: list[threading.Thread] = []

    # ---- start-up --------------------------------------------------------------------------

    def seed(self) -> tuple[str, str]:
        """Create missing objects, load every spec and status; (modules rv, globalconfigs rv)."""
        modules = self._kube.list(MODULES)
        present = {item["metadata"]["name"] for item in modules.items}
        created = [self._create("Module", rt.name, MODULES)
                   for rt in self._state.known() if rt.name not in present]
        configs = self._kube.list(GLOBAL_CONFIGS)
        if not any(item["metadata"]["name"] == GLOBAL_NAME for item in configs.items):
            created.append(self._create("GlobalConfig", GLOBAL_NAME, GLOBAL_CONFIGS))
        if created:   # list again, so the watches start after our own creations
            modules, configs = self._kube.list(MODULES), self._kube.list(GLOBAL_CONFIGS)
        for item in modules.items:
            runtime = self.apply_module(item)
            runtime.written_status = item.get("status") or None
            if runtime.module is None:
                self._writer.module(runtime)
        for item in configs.items:
            if item["metadata"]["name"] == GLOBAL_NAME:
                self.apply_global(item)
                self._state.global_.written_status = item.get("status") or None
        return modules.resource_version, configs.resource_version

    def _create(self, kind: str, name: str, resource: Resource) -> str:
        try:
            self._kube.create(resource, empty_object(kind, name))
            log.info("created %s %s with an empty spec", kind, name)
        except Conflict:
            pass  # created meanwhile by someone else: fine
        return name

    # ---- applying objects ------------------------------------------------------------------

    def apply_module(self, obj: dict[str, Any]) -> ModuleRuntime:
        """Take a Module's spec into the state if its generation is new; mark it reconciling."""
        meta = obj.get("metadata", {})
        runtime = self._state.module(meta["name"])
        runtime.uid = meta.get("uid", "")
        generation = int(meta.get("generation") or 0)
        if generation == runtime.generation:
            return runtime
        spec = obj.get("spec") or {}
        with self._state.lock:
            problems = take_settings(runtime, spec.get("settings"))
            runtime.spec_enabled = spec.get("enabled")
            runtime.suspend = bool(spec.get("suspend"))
            runtime.generation = generation
            status = runtime.status
            status.generation = generation
            status.suspended = runtime.suspend
            status.reconciling = runtime.module is not None and not runtime.suspend
            if runtime.module is None or (problems and not runtime.suspend):
                status.observed_generation = generation   # decided now: no run will come
        if problems and runtime.module is not None:
            self._invalid(f"module {runtime.name}", generation, problems)
        return runtime

    def _invalid(self, owner: str, generation: int, problems: list[str]) -> None:
        """Invalid settings of a new generation: logged (paths and rules only) and counted."""
        log.warning("%s: invalid settings in generation %d, going on with the last good ones: "
                    "%s", owner, generation, "; ".join(problems))
        self._metrics.config_values_errors_total.inc()

    def apply_global(self, obj: dict[str, Any]) -> bool:
        """Take GlobalConfig/global's spec into the state; True when its generation is new."""
        meta = obj.get("metadata", {})
        g = self._state.global_
        g.uid = meta.get("uid", "")
        generation = int(meta.get("generation") or 0)
        if generation == g.generation:
            return False
        with self._state.lock:
            problems = take_settings(g, (obj.get("spec") or {}).get("settings"))
            g.generation = generation
            g.status.generation = generation
            g.status.reconciling = True
        if problems:
            self._invalid("GlobalConfig global", generation, problems)
        return True

    # ---- watching --------------------------------------------------------------------------

    def start(self, modules_rv: str, globals_rv: str) -> None:
        for resource, rv, handle in ((MODULES, modules_rv, self.on_module_event),
                                     (GLOBAL_CONFIGS, globals_rv, self.on_global_event)):
            self._threads.append(self._heartbeats.start(
                partial(self._watch, resource, rv, handle), f"watch-{resource.plural}"))

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def _watch(self, resource: Resource, rv: str | None,
               handle: Callable[[WatchEvent], None]) -> None:
        """Watch until stopped: the first watch resumes from `rv`, every later one (after any
        failure, waited out by the one retry policy, `kube.retry`) starts from a fresh list."""
        watch_forever(
            lambda attempt: self._kube.watch(resource, stop=self._stop,
                                             resource_version=rv if attempt == 0 else None),
            handle, stop=self._stop, sleep=self._sleep, what=f"watch of {resource.describe()}")

    def on_module_event(self, event: WatchEvent) -> None:
        if event.type in (SYNC, RELIST):
            listed = {item["metadata"]["name"] for item in event.items}
            for runtime in list(self._state.modules.values()):
                if runtime.name not in listed and runtime.generation:
                    self._module_deleted(runtime.name)
            for item in event.items:
                self._module_changed(item)
        elif event.type == DELETED:
            self._module_deleted(event.object["metadata"]["name"])
        else:
            self._module_changed(event.object)

    def _module_changed(self, obj: dict[str, Any]) -> None:
        before = self._state.module(obj["metadata"]["name"]).generation
        runtime = self.apply_module(obj)
        if runtime.generation == before:
            return
        log.info("Module %s changed (generation %d)", runtime.name, runtime.generation)
        self._writer.module(runtime)
        if runtime.module is not None:
            self._request(Request(modules=frozenset({runtime.name})))

    def _module_deleted(self, name: str) -> None:
        runtime = self._state.module(name)
        if runtime.module is None:
            with self._state.lock:
                self._state.modules.pop(name, None)
            return
        log.info("Module %s was deleted: back to defaults, creating it again", name)
        with self._state.lock:
            take_settings(runtime, None)
            runtime.spec_enabled, runtime.suspend = None, False
            runtime.generation = 0
            runtime.status.suspended = False
        self._writer.forget(runtime)
        self._request(Request(modules=frozenset({name})))
        try:
            self._create("Module", name, MODULES)
        except KubeError as exc:
            log.warning("cannot create Module %s again: %s", name, exc)

    def on_global_event(self, event: WatchEvent) -> None:
        objects = event.items if event.type in (SYNC, RELIST) else [event.object]
        for obj in objects:
            if obj.get("metadata", {}).get("name") != GLOBAL_NAME:
                continue
            if event.type == DELETED:
                self._global_deleted()
            elif self.apply_global(obj):
                log.info("GlobalConfig global changed (generation %d)",
                         self._state.global_.generation)
                self._writer.global_config()
                self._request(Request(full=True, restart=True))

    def _global_deleted(self) -> None:
        log.info("GlobalConfig global was deleted: back to defaults, creating it again")
        g = self._state.global_
        with self._state.lock:
            take_settings(g, None)
            g.generation = 0
        self._writer.forget(g)
        self._request(Request(full=True, restart=True))
        try:
            self._create("GlobalConfig", GLOBAL_NAME, GLOBAL_CONFIGS)
        except KubeError as exc:
            log.warning("cannot create GlobalConfig global again: %s", exc)
