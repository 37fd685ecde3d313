"""Schedule manager: crontab and @every entries, shared crontab texts, start/stop, time zones."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from addon_operator.bindings import HookRef, ScheduleManager
from addon_operator.hooks import ScheduleBinding, parse_crontab
from addon_operator.httpserver import Heartbeats

UTC = timezone.utc
A, B = HookRef("a.sh"), HookRef("hooks/b.sh", "mod")


def binding(name: str, expr: str) -> ScheduleBinding:
    return ScheduleBinding(name, parse_crontab(expr))


def manager(start: datetime) -> tuple[ScheduleManager, list[tuple[str, str]]]:
    fired: list[tuple[str, str]] = []
    schedules = ScheduleManager(lambda hook, b: fired.append((hook.name, b.name)),
                                now=lambda: start)
    return schedules, fired


def test_same_crontab_text_fires_every_binding_and_nothing_before_start() -> None:
    t0 = datetime(2024, 1, 1, 0, 0, 30, tzinfo=UTC)
    schedules, fired = manager(t0)
    schedules.add(A, (binding("one", "* * * * *"),))
    schedules.add(B, (binding("two", "* * * * *"), binding("fast", "@every 10s")))
    assert schedules.tick(t0 + timedelta(hours=1)) == [] and schedules.entries() == {}
    schedules.start(thread=False)
    assert schedules.entries() == {"* * * * *": datetime(2024, 1, 1, 0, 1, tzinfo=UTC),
                                   "@every 10s": t0 + timedelta(seconds=10)}
    schedules.tick(t0 + timedelta(seconds=10))
    assert fired == [("hooks/b.sh", "fast")]
    schedules.tick(datetime(2024, 1, 1, 0, 1, tzinfo=UTC))
    assert fired[1:] == [("a.sh", "one"), ("hooks/b.sh", "two"), ("hooks/b.sh", "fast")]


def test_removed_hook_stops_firing_and_missed_ticks_fire_once() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    schedules, fired = manager(t0)
    schedules.start(thread=False)
    schedules.add(A, (binding("every", "@every 1m"),))
    schedules.add(B, (binding("six", "*/15 * * * * *"),))
    schedules.tick(t0 + timedelta(hours=3))  # suspended for hours: one fire each
    assert sorted(fired) == [("a.sh", "every"), ("hooks/b.sh", "six")]
    assert schedules.entries()["@every 1m"] == t0 + timedelta(hours=3, minutes=1)
    schedules.remove(B)
    assert list(schedules.entries()) == ["@every 1m"]
    schedules.stop()
    assert schedules.tick(t0 + timedelta(days=1)) == []


def test_tz_prefix_is_honoured() -> None:
    t0 = datetime(2024, 6, 1, 0, 0, tzinfo=UTC)
    schedules, fired = manager(t0)
    schedules.add(A, (binding("berlin", "TZ=Europe/Berlin 0 9 * * *"),))
    schedules.start(thread=False)
    due = schedules.entries()["TZ=Europe/Berlin 0 9 * * *"]
    assert due == datetime(2024, 6, 1, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert schedules.tick(datetime(2024, 6, 1, 6, 59, tzinfo=UTC)) == []
    schedules.tick(datetime(2024, 6, 1, 7, 0, tzinfo=UTC))
    assert fired == [("a.sh", "berlin")]


def test_the_schedule_thread_is_tracked_by_healthz() -> None:
    """Started through `spawn` (the runtime's `Heartbeats.start`): a crash of the firing thread
    is named by `/healthz`; `stop()` ends it on purpose and it is not."""
    heartbeats = Heartbeats(max_age=60)
    now = datetime(2024, 1, 1, 0, 0, 30, tzinfo=UTC)

    def fire(hook: HookRef, b: ScheduleBinding) -> None:
        raise RuntimeError("a bug while firing")

    crashing = ScheduleManager(fire, now=lambda: now, spawn=heartbeats.start)
    crashing.add(A, (binding("due", "@every 1s"),))
    crashing.start()
    now += timedelta(seconds=2)   # due at once: the loop fires and dies
    with crashing._cond:
        crashing._cond.notify_all()
    deadline = time.monotonic() + 5
    while heartbeats.stale() != ["schedules (ended)"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert heartbeats.stale() == ["schedules (ended)"]

    calm = Heartbeats(max_age=60)
    stopped = ScheduleManager(lambda hook, b: None, now=lambda: now, spawn=calm.start)
    stopped.start()
    stopped.stop()
    assert calm.stale() == []
