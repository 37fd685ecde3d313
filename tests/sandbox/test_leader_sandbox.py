"""Two leader electors against the real sandbox API server, in threads, with short timings:
exactly one leads; a released Lease passes to the other within a retry period; a leader that
vanishes without releasing is replaced only after the lease duration, never overlapping."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from addon_operator.kube import Conflict, KubeClient, KubeError
from addon_operator.kube.errors import NO_RESPONSE
from addon_operator.kube.resources import LEASES, Resource
from addon_operator.leader import LeaderElector
from kube_sandbox import SandboxServer

NS = "default"
LEASE_DURATION = 2
RENEW_DEADLINE = 1.0
RETRY_PERIOD = 0.5
SLACK = 1.0            # thread scheduling and HTTP round trips on a busy test machine
HANDOVER_SLACK = 0.6   # below LEASE_DURATION - 2 * RETRY_PERIOD: a release must have happened


class Killable:
    """A client that can vanish: after `kill()` every call fails as if the process was gone
    (no answer), so its elector neither renews nor releases."""

    def __init__(self, client: KubeClient) -> None:
        self._client = client
        self.killed = threading.Event()

    def _alive(self) -> KubeClient:
        if self.killed.is_set():
            raise KubeError(NO_RESPONSE, "Killed", "the replica is gone")
        return self._client

    def get(self, resource: Resource, name: str, *, namespace: str | None = None
            ) -> dict[str, Any]:
        return self._alive().get(resource, name, namespace=namespace)

    def create(self, resource: Resource, obj: dict[str, Any], *, namespace: str | None = None
               ) -> dict[str, Any]:
        return self._alive().create(resource, obj, namespace=namespace)

    def update(self, resource: Resource, obj: dict[str, Any], *, namespace: str | None = None
               ) -> dict[str, Any]:
        return self._alive().update(resource, obj, namespace=namespace)


class Replica:
    """One elector in its own thread; `timeline` is shared by the replicas of a test."""

    def __init__(self, name: str, client: KubeClient, lease: str,
                 timeline: list[tuple[float, str]], lock: threading.Lock) -> None:
        self.name = name
        self.client = Killable(client)
        self.stop = threading.Event()
        self.lost: bool | None = None
        self._timeline, self._lock = timeline, lock
        self.elector = LeaderElector(
            self.client, namespace=NS, identity=name, name=lease,
            lease_duration=LEASE_DURATION, renew_deadline=RENEW_DEADLINE,
            retry_period=RETRY_PERIOD,
            on_started_leading=lambda: self._note("started"),
            on_stopped_leading=lambda: self._note("stopped"))
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _note(self, what: str) -> None:
        with self._lock:
            self._timeline.append((time.monotonic(), f"{self.name} {what}"))

    def _run(self) -> None:
        self.lost = self.elector.run(self.stop)

    def join(self) -> None:
        self.thread.join(RENEW_DEADLINE + LEASE_DURATION + SLACK)
        assert not self.thread.is_alive(), f"{self.name} did not stop"


@pytest.fixture
def replicas(sandbox: SandboxServer) -> Iterator[tuple[Replica, Replica, list[tuple[float, str]]]]:
    lease = f"leader-{uuid.uuid4().hex[:8]}"
    timeline: list[tuple[float, str]] = []
    lock = threading.Lock()
    clients = [KubeClient.from_kubeconfig(sandbox.kubeconfig_path) for _ in range(2)]
    pair = [Replica(name, client, lease, timeline, lock)
            for name, client in zip(("a", "b"), clients)]
    for replica in pair:
        replica.thread.start()
    yield pair[0], pair[1], timeline
    for replica in pair:
        replica.stop.set()
        replica.thread.join(5)
    for client in clients:
        client.close()


def wait_for(condition: Any, timeout: float) -> float:
    """Poll until `condition()` is true; the monotonic time it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.02)
    raise AssertionError(f"not true within {timeout}s")


def leaders(*replicas: Replica) -> list[Replica]:
    return [r for r in replicas if r.elector.is_leader()]


def first_leader(a: Replica, b: Replica) -> tuple[Replica, Replica]:
    wait_for(lambda: len(leaders(a, b)) == 1, LEASE_DURATION + SLACK)
    leader = leaders(a, b)[0]
    return leader, (b if leader is a else a)


def test_exactly_one_leads_and_a_release_hands_over_within_a_retry_period(
        replicas: tuple[Replica, Replica, list[tuple[float, str]]]) -> None:
    a, b, timeline = replicas
    leader, follower = first_leader(a, b)
    watch_until = time.monotonic() + LEASE_DURATION + RETRY_PERIOD
    while time.monotonic() < watch_until:            # renewals outlast the lease duration
        assert leaders(a, b) == [leader]
        time.sleep(RETRY_PERIOD / 4)

    leader.stop.set()
    leader.join()
    released = time.monotonic()
    assert leader.lost is False
    # Without the release the follower would wait for the lease duration counted from the
    # last renewal it saw (at least LEASE_DURATION - RETRY_PERIOD from here).
    took_over = wait_for(follower.elector.is_leader, LEASE_DURATION + SLACK)
    assert took_over - released <= RETRY_PERIOD + HANDOVER_SLACK
    assert [event for _, event in timeline] == [
        f"{leader.name} started", f"{leader.name} stopped", f"{follower.name} started"]


def test_a_vanished_leader_is_replaced_after_the_lease_duration_without_overlap(
        replicas: tuple[Replica, Replica, list[tuple[float, str]]]) -> None:
    a, b, timeline = replicas
    leader, follower = first_leader(a, b)
    time.sleep(RETRY_PERIOD * 2)                  # a couple of renewals first

    killed = time.monotonic()
    leader.client.killed.set()
    took_over = wait_for(follower.elector.is_leader, LEASE_DURATION + RETRY_PERIOD + SLACK)
    # The Lease was renewed at most one retry period before the kill, and the follower counts
    # a full lease duration from when it saw that renewal.
    assert took_over - killed >= LEASE_DURATION - RETRY_PERIOD
    leader.join()
    assert leader.lost is True                    # gave up after the renew deadline, no release
    events = [event for _, event in timeline]
    assert events == [f"{leader.name} started", f"{leader.name} stopped",
                      f"{follower.name} started"], "the two leaderships overlapped"


def test_a_lease_update_with_a_stale_resource_version_is_refused(sandbox: SandboxServer) -> None:
    """The compare-and-swap the election relies on: `KubeClient.update` answers 409."""
    client = KubeClient.from_kubeconfig(sandbox.kubeconfig_path)
    try:
        name = f"cas-{uuid.uuid4().hex[:8]}"
        created = client.create(LEASES, {"metadata": {"name": name},
                                         "spec": {"holderIdentity": "a"}}, namespace=NS)
        first = client.update(LEASES, {**created, "spec": {"holderIdentity": "b"}},
                              namespace=NS)
        assert first["spec"]["holderIdentity"] == "b"
        with pytest.raises(Conflict):
            client.update(LEASES, {**created, "spec": {"holderIdentity": "c"}}, namespace=NS)
        assert client.get(LEASES, name, namespace=NS)["spec"]["holderIdentity"] == "b"
    finally:
        client.close()
