"""`schedule` bindings: crontab and `@every` entries firing through an injected clock.

`engine.HookBindings` owns one `ScheduleManager`. Hooks' schedule bindings are `add`ed when
their hook's schedules are enabled (global hooks at start-up, module hooks when the module
runs) and `remove`d when the module is disabled; nothing fires before `start()`, which the
runtime calls after the first converge (upstream drops schedule events until then). As
upstream, entries are keyed by the crontab text: every binding with the same text fires at the
same tick, one call per binding. A tick that was missed (the process was suspended) fires
once, and the next time is computed from now.

`tick(now)` is the pure core (tests call it with any time); `start()` runs it on a thread that
sleeps until the next due time or until the entries change, started through the injected
`spawn` (the runtime's `Heartbeats.start`, so `/healthz` names the thread should it die).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from addon_operator.hooks.config_model import ScheduleBinding

from .hub import Spawn, daemon_thread
from .requests import HookRef

Fire = Callable[[HookRef, ScheduleBinding], None]
MAX_SLEEP = 60.0  # re-check at least this often (clock jumps)


def local_now() -> datetime:
    return datetime.now().astimezone()


class ScheduleManager:
    """Crontab entries of all hooks (thread-safe)."""

    def __init__(self, fire: Fire, *, now: Callable[[], datetime] = local_now,
                 spawn: Spawn = daemon_thread) -> None:
        self._fire = fire
        self._now = now
        self._spawn = spawn
        self._cond = threading.Condition()
        self._bindings: dict[HookRef, tuple[ScheduleBinding, ...]] = {}
        self._next: dict[str, datetime | None] = {}   # crontab text -> next fire time
        self._running = False
        self._thread: threading.Thread | None = None

    def add(self, hook: HookRef, bindings: tuple[ScheduleBinding, ...]) -> None:
        """Arm `hook`'s schedule bindings (replacing any it had)."""
        with self._cond:
            self._bindings[hook] = bindings
            self._forget_unused()
            if self._running:
                self._arm(self._now())
            self._cond.notify_all()

    def remove(self, hook: HookRef) -> None:
        with self._cond:
            self._bindings.pop(hook, None)
            self._forget_unused()
            self._cond.notify_all()

    def entries(self) -> dict[str, datetime | None]:
        """Crontab text -> next fire time (None before `start()` or when it never fires)."""
        with self._cond:
            return dict(self._next)

    def start(self, *, thread: bool = True) -> None:
        """Start firing; without `thread` the caller drives `tick()` itself."""
        with self._cond:
            if self._running:
                return
            self._running = True
            self._arm(self._now())
            if thread:
                started = self._spawn(self._loop, "schedules")
                self._thread = started if isinstance(started, threading.Thread) else None

    def stop(self) -> None:
        with self._cond:
            self._running = False
            self._next = {}
            self._cond.notify_all()
            worker, self._thread = self._thread, None
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=5)

    def tick(self, now: datetime) -> list[tuple[HookRef, ScheduleBinding]]:
        """Fire every entry due at `now`; returns what was fired, in binding order."""
        with self._cond:
            if not self._running:
                return []
            crontabs = {b.crontab.expr: b.crontab
                        for bindings in self._bindings.values() for b in bindings}
            due = {expr for expr, at in self._next.items()
                   if at is not None and at <= now and expr in crontabs}
            fired = [(hook, b) for hook, bindings in self._bindings.items() for b in bindings
                     if b.crontab.expr in due]
            for expr in due:
                crontab = crontabs[expr]
                self._next[expr] = crontab.next_after(_in_zone(now, crontab.zone))
        for hook, binding in fired:
            self._fire(hook, binding)
        return fired

    def _arm(self, now: datetime) -> None:
        for bindings in self._bindings.values():
            for binding in bindings:
                crontab = binding.crontab
                if crontab.expr not in self._next:
                    self._next[crontab.expr] = crontab.next_after(_in_zone(now, crontab.zone))

    def _forget_unused(self) -> None:
        used = {b.crontab.expr for bindings in self._bindings.values() for b in bindings}
        self._next = {expr: at for expr, at in self._next.items() if expr in used}

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._running:
                    return
                now = self._now()
                times = [at for at in self._next.values() if at is not None]
                pause = min((min(times) - now).total_seconds(), MAX_SLEEP) if times else MAX_SLEEP
                if pause > 0:
                    self._cond.wait(pause)
                    continue
            self.tick(self._now())


def _in_zone(moment: datetime, zone: ZoneInfo | None) -> datetime:
    return moment.astimezone(zone) if zone is not None and moment.tzinfo is not None else moment
