"""`HookBindings`: the one object the runtime holds for kubernetes and schedule bindings.

It owns the shared watches (`WatchHub`), one `BindingMonitor` per enabled kubernetes binding,
the `ScheduleManager` and one rate limiter per hook, and turns all of them into `RunRequest`s
passed to the runtime's `emit` callback. See the package docstring for the calling sequence.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from addon_operator.hooks.config_model import HookConfig, ScheduleBinding
from addon_operator.hooks.contexts import GROUP, SCHEDULE, BindingContext, Item

from .hub import Spawn, Watcher, WatchHub, daemon_thread
from .monitor import BindingMonitor, CallLater, Resolver, call_later
from .ratelimit import TokenBucket, limiter_for
from .requests import Emit, HookRef, Report, RunRequest
from .schedule import ScheduleManager, local_now
from .snapshots import fill_contexts, includes_of, lifecycle_snapshots


class KubeApi(Watcher, Resolver, Protocol):
    """The `KubeClient` methods the engine uses (watch and kind resolution)."""


@dataclass
class _Hook:
    config: HookConfig
    since: int                                   # requests made before this are stale
    monitors: dict[str, BindingMonitor] = field(default_factory=dict)
    limiter: TokenBucket | None = None

    def snapshot(self, binding: str) -> list[Item] | None:
        monitor = self.monitors.get(binding)
        return monitor.snapshot() if monitor is not None else None

    def take_synchronization(self, binding: str) -> list[Item] | None:
        monitor = self.monitors.get(binding)
        return monitor.take_synchronization() if monitor is not None else None


class HookBindings:
    """Kubernetes and schedule bindings of every hook (thread-safe)."""

    def __init__(
        self,
        kube: KubeApi,
        *,
        emit: Emit,
        report: Report,
        now: Callable[[], datetime] = local_now,
        monotonic: Callable[[], float] = time.monotonic,
        later: CallLater = call_later,
        spawn: Spawn = daemon_thread,
    ) -> None:
        self._kube = kube
        self._emit = emit
        self._report = report
        self._monotonic = monotonic
        self._later = later
        self.hub = WatchHub(kube, spawn=spawn)
        self.schedules = ScheduleManager(self._on_schedule, now=now, spawn=spawn)
        self._serials = itertools.count(1)
        self._serial_lock = threading.Lock()
        self._cond = threading.Condition()
        self._hooks: dict[HookRef, _Hook] = {}

    # ---- enabling and disabling ------------------------------------------------------------

    def enable_kubernetes(self, hook: HookRef, config: HookConfig) -> None:
        """Start the hook's kubernetes monitors; each emits its Synchronization request once
        its objects are listed (later, if its kind does not exist yet)."""
        with self._cond:
            state = self._state(hook, config)
            for binding in config.kubernetes:
                if binding.name in state.monitors:
                    continue
                state.monitors[binding.name] = BindingMonitor(
                    hook, binding, hub=self.hub, resolver=self._kube, emit=self._emit_current,
                    report=self._report, next_serial=self._next_serial, later=self._later)
            monitors = list(state.monitors.values())
        for monitor in monitors:
            monitor.start()

    def enable_schedules(self, hook: HookRef, config: HookConfig) -> None:
        """Arm the hook's schedule bindings (they fire once `start_schedules()` was called)."""
        with self._cond:
            self._state(hook, config)
        self.schedules.add(hook, config.schedules)

    def disable(self, hook: HookRef) -> None:
        """Stop the hook's monitors and schedules; its queued requests become stale."""
        with self._cond:
            state = self._hooks.pop(hook, None)
            self._cond.notify_all()
        self.schedules.remove(hook)
        for monitor in state.monitors.values() if state else ():
            monitor.stop()

    def start_schedules(self) -> None:
        """Let schedules fire (the runtime calls this after the first converge)."""
        self.schedules.start()

    def stop(self) -> None:
        """Stop everything (shutdown)."""
        with self._cond:
            states, self._hooks = list(self._hooks.values()), {}
            self._cond.notify_all()
        self.schedules.stop()
        for state in states:
            for monitor in state.monitors.values():
                monitor.stop()
        self.hub.stop()

    # ---- synchronization -------------------------------------------------------------------

    def synchronized(self, hook: HookRef) -> bool:
        """Whether every binding of `hook` that start-up waits for has had its Synchronization
        done (a binding whose kind does not exist yet is not)."""
        with self._cond:
            return self._synchronized(hook)

    def wait_synchronized(self, hooks: Iterable[HookRef], timeout: float) -> bool:
        """Block until `synchronized()` holds for all `hooks`, or `timeout` seconds passed."""
        wanted = list(hooks)
        with self._cond:
            return self._cond.wait_for(lambda: all(self._synchronized(h) for h in wanted),
                                       timeout)

    def done(self, requests: Sequence[RunRequest]) -> None:
        """The run of `requests` succeeded (or was allowed to fail, or a Synchronization was
        not to be run): unlock the Events of each Synchronization among them."""
        for request in requests:
            if not request.synchronization:
                continue
            with self._cond:
                state = self._hooks.get(request.hook)
                monitor = state.monitors.get(request.binding) if state else None
            if monitor is not None:
                monitor.unlock()
        with self._cond:
            self._cond.notify_all()

    # ---- runs ------------------------------------------------------------------------------

    def is_current(self, request: RunRequest) -> bool:
        """False for a request made before its hook was last disabled (drop its task)."""
        with self._cond:
            state = self._hooks.get(request.hook)
            return state is not None and request.serial > state.since

    def reserve(self, hook: HookRef) -> float:
        """Seconds to wait before the hook's next run (its `settings` rate limit)."""
        with self._cond:
            state = self._hooks.get(hook)
            limiter = state.limiter if state else None
        return limiter.reserve() if limiter is not None else 0.0

    def contexts(self, hook: HookRef, requests: Sequence[RunRequest]) -> list[BindingContext]:
        """The binding contexts of one (combined) run, read now: group-compacted, with
        Synchronization objects and snapshots filled in. Render them with
        `hooks.contexts.render_contexts(contexts, config.version)`."""
        with self._cond:
            state = self._hooks.get(hook)
        if state is None:
            return [request.context for request in requests]
        return fill_contexts(requests, includes_of(state.config), state)

    def snapshots(self, hook: HookRef, config: HookConfig) -> dict[str, list[Item]]:
        """All kubernetes snapshots of `hook`, for its lifecycle contexts (beforeHelm & co)."""
        with self._cond:
            state = self._hooks.get(hook)
        if state is None:
            return {binding.name: [] for binding in config.kubernetes}
        return lifecycle_snapshots(config, state)

    # ---- internals -------------------------------------------------------------------------

    def _state(self, hook: HookRef, config: HookConfig) -> _Hook:
        state = self._hooks.get(hook)
        if state is None:
            state = self._hooks[hook] = _Hook(
                config, since=self._next_serial(),
                limiter=limiter_for(config.settings, clock=self._monotonic))
        return state

    def _synchronized(self, hook: HookRef) -> bool:
        state = self._hooks.get(hook)
        if state is None:
            return True
        return all(m.synchronized for m in state.monitors.values()
                   if m.binding.waits_for_synchronization)

    def _next_serial(self) -> int:
        with self._serial_lock:
            return next(self._serials)

    def _emit_current(self, request: RunRequest) -> None:
        if self.is_current(request):
            self._emit(request)

    def _on_schedule(self, hook: HookRef, binding: ScheduleBinding) -> None:
        if binding.group:
            context = BindingContext(binding.name, GROUP, group_name=binding.group)
        else:
            context = BindingContext(binding.name, SCHEDULE)
        self._emit_current(RunRequest(hook, binding.name, binding.queue, context,
                                      allow_failure=binding.allow_failure, group=binding.group,
                                      serial=self._next_serial()))
