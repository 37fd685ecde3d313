"""Leader election on a Lease, pure: a fake API with resourceVersions and a fake clock whose
sleep moves time forward and plays the other replicas' moves, so nothing ever waits."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from addon_operator.kube.errors import Conflict
from addon_operator.kube.resources import Resource
from addon_operator.leader import (
    LEASE_NAME, LeaderElector, LeaderSettings, LeaderSettingsError, LeaseRecord, identity_of,
    micro_time,
)
from lease_fakes import FakeLeases

NS = "addon-operator"
EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)


class FakeTime:
    """`clock` (seconds), `now` (wall time from the same counter) and `sleep`, which advances
    time and then calls `on_sleep` so a test can act for the other replicas or stop."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], None] = lambda: None

    def clock(self) -> float:
        return self.t

    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.t)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        self.on_sleep()


class Harness:
    """One elector (lease 10 s, renew deadline 6 s, retry 2 s) on a fake API and fake time,
    recording when its callbacks ran."""

    def __init__(self, identity: str = "me", api: FakeLeases | None = None,
                 time: FakeTime | None = None) -> None:
        self.api = api or FakeLeases(NS)
        self.time = time or FakeTime()
        self.stop = threading.Event()
        self.started_at: list[float] = []
        self.stopped_at: list[float] = []
        self.elector = LeaderElector(
            self.api, namespace=NS, identity=identity, lease_duration=10, renew_deadline=6.0,
            retry_period=2.0, clock=self.time.clock, now=self.time.now, sleep=self.time.sleep,
            on_started_leading=lambda: self.started_at.append(self.time.t),
            on_stopped_leading=lambda: self.stopped_at.append(self.time.t))

    def stop_after(self, seconds: float, then: Callable[[], None] = lambda: None) -> None:
        def on_sleep() -> None:
            then()
            if self.time.t >= seconds:
                self.stop.set()
        self.time.on_sleep = on_sleep

    def run(self) -> bool:
        return self.elector.run(self.stop)


def stamp(seconds: float) -> str:
    return micro_time(EPOCH + timedelta(seconds=seconds))


def test_acquires_a_missing_lease_by_creating_it() -> None:
    h = Harness()
    leading: list[bool] = []
    h.time.on_sleep = lambda: (leading.append(h.elector.is_leader()), h.stop.set())
    assert h.run() is False
    created = h.api.writes[0]
    assert created["apiVersion"] == "coordination.k8s.io/v1" and created["kind"] == "Lease"
    assert created["metadata"] == {"name": LEASE_NAME, "namespace": NS, "resourceVersion": "1"}
    assert created["spec"] == {"holderIdentity": "me", "leaseDurationSeconds": 10,
                               "acquireTime": "2025-01-01T00:00:00.000000Z",
                               "renewTime": "2025-01-01T00:00:00.000000Z",
                               "leaseTransitions": 0}
    assert h.started_at == [0.0] and leading == [True]
    assert not h.elector.is_leader() and h.stopped_at == [2.0]


def test_renews_every_retry_period_keeping_acquire_time_and_transitions() -> None:
    h = Harness()
    h.api.put(holderIdentity="me", leaseDurationSeconds=10, acquireTime=stamp(-50),
              renewTime=stamp(-1), leaseTransitions=3)
    renewals: list[dict[str, Any]] = []
    h.stop_after(8.0, then=lambda: renewals.append(dict(h.api.spec())))
    h.run()
    # The same identity (a restarted pod) takes its own lease back at once.
    assert h.started_at == [0.0]
    assert [r["renewTime"] for r in renewals] == [stamp(t) for t in (0, 2, 4, 6)]
    assert {r["acquireTime"] for r in renewals} == {stamp(-50)}
    assert {r["leaseTransitions"] for r in renewals} == {3}
    assert set(h.time.sleeps) == {2.0}


def test_respects_a_live_holder_that_keeps_renewing() -> None:
    h = Harness()
    h.api.put(holderIdentity="other", leaseDurationSeconds=10, acquireTime=stamp(0),
              renewTime=stamp(0), leaseTransitions=0)
    h.stop_after(60.0, then=lambda: h.api.put(renewTime=stamp(h.time.t)))
    assert h.run() is False
    assert h.started_at == [] and h.stopped_at == []
    assert h.api.spec()["holderIdentity"] == "other"
    assert all(w["spec"]["holderIdentity"] == "other" for w in h.api.writes)


def test_takes_over_an_expired_lease_after_a_full_local_lease_duration() -> None:
    h = Harness()
    # The renew time is an hour old, but expiry counts from when this replica first saw the
    # record (other nodes' clocks are not trusted): the takeover waits a full duration.
    h.api.put(holderIdentity="other", leaseDurationSeconds=10, acquireTime=stamp(-3600),
              renewTime=stamp(-3600), leaseTransitions=4)
    h.time.on_sleep = lambda: h.stop.set() if h.started_at else None
    h.run()
    assert h.started_at == [10.0]
    spec = h.api.writes[1]["spec"]
    assert spec["holderIdentity"] == "me" and spec["leaseTransitions"] == 5
    assert spec["acquireTime"] == spec["renewTime"] == stamp(10)


def test_takes_a_released_lease_at_once() -> None:
    h = Harness()
    h.api.put(holderIdentity="", leaseDurationSeconds=1, acquireTime=stamp(0),
              renewTime=stamp(0), leaseTransitions=2)
    h.time.on_sleep = h.stop.set
    h.run()
    assert h.started_at == [0.0] and h.api.writes[1]["spec"]["leaseTransitions"] == 3


def test_releases_the_lease_on_stop_so_a_successor_leads_within_one_retry() -> None:
    h = Harness()
    h.stop_after(4.0)
    assert h.run() is False
    released = h.api.spec()
    assert released["holderIdentity"] == "" and released["leaseDurationSeconds"] == 1
    assert released["leaseTransitions"] == 0
    assert released["renewTime"] == stamp(4)

    released_at = h.time.t
    successor = Harness("next", api=h.api, time=h.time)
    successor.time.on_sleep = successor.stop.set
    successor.run()
    assert successor.started_at == [released_at]
    taken = h.api.writes[-2]["spec"]
    assert taken["holderIdentity"] == "next" and taken["leaseTransitions"] == 1


def test_loses_leadership_when_renewals_fail_for_the_renew_deadline() -> None:
    h = Harness()
    writes_before_outage: list[int] = []
    h.time.on_sleep = lambda: (
        setattr(h.api, "broken", h.time.t >= 4.0),
        writes_before_outage.append(len(h.api.writes)) if h.time.t == 4.0 else None)
    assert h.run() is True
    # Renewal round starting at t=4 retries at 6, 8 and gives up at the deadline t=10.
    assert h.stopped_at == [10.0] and not h.elector.is_leader()
    assert len(h.api.writes) == writes_before_outage[0]       # no release attempt either
    assert h.api.spec()["holderIdentity"] == "me"


def test_a_failed_renewal_recovered_before_the_deadline_keeps_leading() -> None:
    h = Harness()
    h.stop_after(12.0, then=lambda: setattr(h.api, "broken", 4.0 <= h.time.t < 8.0))
    assert h.run() is False
    assert h.started_at == [0.0] and h.stopped_at == [12.0]
    assert h.api.spec()["holderIdentity"] == ""                # released at the end


def test_stops_leading_at_once_when_another_holder_took_the_lease() -> None:
    h = Harness()

    def usurp() -> None:
        if h.time.t == 4.0:
            h.api.put(holderIdentity="other", renewTime=stamp(4))
    h.time.on_sleep = usurp
    assert h.run() is True
    assert h.stopped_at == [4.0]
    assert h.api.spec()["holderIdentity"] == "other"            # not released by the loser


def racing_get(h: Harness, rival_write: Callable[[], None]) -> None:
    """The rival writes the Lease right after our next read, so our update carries a stale
    resourceVersion."""
    original_get = h.api.get

    def get(resource: Resource, name: str, *, namespace: str | None = None) -> dict[str, Any]:
        seen = original_get(resource, name, namespace=namespace)
        h.api.get = original_get   # type: ignore[method-assign]
        rival_write()
        return seen
    h.api.get = get   # type: ignore[method-assign]


def test_a_lost_takeover_race_409_respects_the_winner() -> None:
    h = Harness()
    h.api.put(holderIdentity="", leaseDurationSeconds=1, acquireTime=stamp(0),
              renewTime=stamp(0), leaseTransitions=0)
    racing_get(h, lambda: h.api.put(holderIdentity="rival", leaseDurationSeconds=10,
                                    renewTime=stamp(0)))
    h.stop_after(8.0, then=lambda: h.api.put(renewTime=stamp(h.time.t)))
    h.run()
    assert h.started_at == []
    assert h.api.spec()["holderIdentity"] == "rival"


def test_a_409_on_renewal_is_retried_next_period_without_losing() -> None:
    h = Harness()

    def on_sleep() -> None:
        if h.time.t == 2.0:     # someone touches the Lease (labels) between our read and write
            racing_get(h, lambda: h.api.put())
        if h.time.t >= 8.0:
            h.stop.set()
    h.time.on_sleep = on_sleep
    renewed_at: list[str] = []
    original_update = h.api.update

    def update(resource: Resource, obj: dict[str, Any], *, namespace: str | None = None
               ) -> dict[str, Any]:
        try:
            return original_update(resource, obj, namespace=namespace)
        except Conflict:
            renewed_at.append("409")
            raise
    h.api.update = update   # type: ignore[method-assign]
    assert h.run() is False
    assert renewed_at == ["409"] and h.stopped_at == [8.0]
    assert h.api.spec()["holderIdentity"] == ""       # still led, then released on stop


def test_a_create_race_409_falls_back_to_respecting_the_winner() -> None:
    h = Harness()
    original_create = h.api.create

    def rival_creates_first(resource: Resource, obj: dict[str, Any], *,
                            namespace: str | None = None) -> dict[str, Any]:
        h.api.put(holderIdentity="rival", leaseDurationSeconds=10, renewTime=stamp(0))
        return original_create(resource, obj, namespace=namespace)
    h.api.create = rival_creates_first   # type: ignore[method-assign]
    h.stop_after(4.0)
    h.run()
    assert h.started_at == [] and h.api.spec()["holderIdentity"] == "rival"


def test_stop_before_acquiring_writes_nothing_and_calls_no_callback() -> None:
    h = Harness()
    h.stop.set()
    assert h.run() is False
    assert h.api.writes == [] and h.started_at == [] and h.stopped_at == []


# ---- settings ----------------------------------------------------------------------------------

def test_settings_default_to_upstream_names_and_timings() -> None:
    s = LeaderSettings.from_env({}, namespace="ops", hostname="box", pid=42)
    assert (s.enabled, s.namespace, s.identity, s.lease_name) == \
        (False, "ops", "box_42", "addon-operator-leader-election")
    assert (s.lease_duration, s.renew_deadline, s.retry_period) == (35, 30.0, 10.0)


def test_settings_from_env() -> None:
    s = LeaderSettings.from_env({
        "ADDON_OPERATOR_HA": "true", "ADDON_OPERATOR_POD": "ao-7d9f-x2",
        "ADDON_OPERATOR_LISTEN_ADDRESS": "10.1.2.3",
        "ADDON_OPERATOR_HA_LEASE_DURATION_SECONDS": "2",
        "ADDON_OPERATOR_HA_RENEW_DEADLINE_SECONDS": "1.5",
        "ADDON_OPERATOR_HA_RETRY_PERIOD_SECONDS": "0.5",
    }, namespace="ops")
    assert s.enabled and s.identity == "ao-7d9f-x2.10-1-2-3.ops.pod"
    assert (s.lease_duration, s.renew_deadline, s.retry_period) == (2, 1.5, 0.5)
    elector = LeaderElector.from_settings(FakeLeases(NS), s)
    assert elector.identity == s.identity


@pytest.mark.parametrize(("pod", "address", "expected"), [
    ("ao-1", "10.0.0.7", "ao-1.10-0-0-7.ns.pod"),
    ("ao-1", "0.0.0.0", "ao-1"),
    ("ao-1", "", "ao-1"),
    ("", "10.0.0.7", "host_7"),
])
def test_identity(pod: str, address: str, expected: str) -> None:
    assert identity_of(pod, address, "ns", hostname="host", pid=7) == expected


@pytest.mark.parametrize(("env", "message"), [
    ({"ADDON_OPERATOR_HA": "yes"}, "ADDON_OPERATOR_HA: expected true or false, got 'yes'"),
    ({"ADDON_OPERATOR_HA_LEASE_DURATION_SECONDS": "1.5"},
     "ADDON_OPERATOR_HA_LEASE_DURATION_SECONDS: expected whole seconds"),
    ({"ADDON_OPERATOR_HA_RETRY_PERIOD_SECONDS": "soon"},
     "ADDON_OPERATOR_HA_RETRY_PERIOD_SECONDS: expected a number of seconds, got 'soon'"),
    ({"ADDON_OPERATOR_HA_RETRY_PERIOD_SECONDS": "0"},
     "ADDON_OPERATOR_HA_RETRY_PERIOD_SECONDS must be positive"),
    ({"ADDON_OPERATOR_HA_RENEW_DEADLINE_SECONDS": "40"},
     "ADDON_OPERATOR_HA_LEASE_DURATION_SECONDS (35) must be greater than "
     "ADDON_OPERATOR_HA_RENEW_DEADLINE_SECONDS (40)"),
    ({"ADDON_OPERATOR_HA_RETRY_PERIOD_SECONDS": "30"},
     "ADDON_OPERATOR_HA_RENEW_DEADLINE_SECONDS (30) must be greater than "
     "ADDON_OPERATOR_HA_RETRY_PERIOD_SECONDS (30)"),
])
def test_settings_errors_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(LeaderSettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        LeaderSettings.from_env(env, namespace="ns")


@pytest.mark.parametrize("value", ["1", "t", "TRUE", "True"])
def test_ha_accepts_go_booleans(value: str) -> None:
    assert LeaderSettings.from_env({"ADDON_OPERATOR_HA": value}, namespace="ns").enabled


def test_lease_record_reads_missing_fields_as_free() -> None:
    assert LeaseRecord.of({"metadata": {"name": "x"}}) == LeaseRecord()
    assert LeaseRecord.of({"spec": {"holderIdentity": None, "leaseDurationSeconds": 5}}) \
        == LeaseRecord(duration=5)


def test_micro_time_is_utc_with_microseconds() -> None:
    moment = datetime(2025, 3, 4, 5, 6, 7, 89, tzinfo=timezone(timedelta(hours=2)))
    assert micro_time(moment) == "2025-03-04T03:06:07.000089Z"
