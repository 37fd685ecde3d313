"""`app.Leadership`: who is ready (a follower is, a leader after its first converge), and the
order of a graceful stop: the Lease stays held while the work winds down and is handed back only
by `resign`, which the runtime calls after its workers have stopped."""

from __future__ import annotations

import threading

from addon_operator.httpserver import Heartbeats
from addon_operator.kube.resources import LEASES
from addon_operator.leader import LEASE_NAME, LeaderSettings
from addon_operator.runtime.app import Leadership
from lease_fakes import FakeLeases

NS = "addons"
HA = LeaderSettings(enabled=True, namespace=NS, identity="replica-a", lease_duration=30,
                    renew_deadline=20, retry_period=10)


def test_without_leader_election_ready_means_converged_and_stop_ends_the_work() -> None:
    leadership = Leadership(LeaderSettings(enabled=False, namespace=NS, identity="x"))
    stop = threading.Event()
    assert leadership.campaign(FakeLeases(NS), Heartbeats(60), stop) is stop
    assert not leadership.ready(converged=False)
    assert leadership.ready(converged=True)
    leadership.resign(1.0)


def test_a_follower_is_ready_and_stops_without_touching_the_lease() -> None:
    leases = FakeLeases(NS)
    leases.create(LEASES, {"metadata": {"name": LEASE_NAME, "namespace": NS},
                           "spec": {"holderIdentity": "replica-b", "leaseDurationSeconds": 30}},
                  namespace=NS)
    leadership = Leadership(HA)
    assert leadership.ready(converged=False), "a standby reports ready before any converge"
    stop = threading.Event()
    stop.set()
    assert leadership.campaign(leases, Heartbeats(60), stop) is None
    assert leadership.ready(converged=False)
    leadership.resign(5.0)
    assert leases.holder() == "replica-b" and leases.version == 1


def test_the_leader_hands_the_lease_back_only_after_its_work_stopped() -> None:
    leases = FakeLeases(NS)
    leadership = Leadership(HA)
    stop = threading.Event()
    work = leadership.campaign(leases, Heartbeats(60), stop)
    assert work is not None and not work.is_set()
    assert leases.holder() == "replica-a"
    assert not leadership.ready(converged=False), "a leader is ready after its first converge"
    assert leadership.ready(converged=True)

    stop.set()
    assert work.wait(5.0), "SIGTERM ends the work"
    assert leases.holder() == "replica-a", "still held while running tasks finish"
    leadership.resign(5.0)
    assert leases.holder() == "", "handed back once the work stopped"
    assert leases.objects[LEASE_NAME]["spec"]["leaseDurationSeconds"] == 1
