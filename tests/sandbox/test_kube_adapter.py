"""`KubeClient` against the real sandbox API server: CRUD, status subresource, watches with
injected faults (dropped streams, expired history, 5xx), events and kind resolution."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from addon_operator.kube import (
    ADDED, DELETED, MODIFIED, RELIST, SYNC, Conflict, KubeClient, KubeError, NotFound, Resource,
    WatchEvent,
)
from addon_operator.kube.resources import CRDS
from kube_sandbox import SandboxServer
from kube_support import CONFIGMAPS, install_crd, open_crd, temporary_namespace, unique

GROUP = "kube-adapter.test"
GADGETS = Resource(GROUP, "v1", "gadgets", False, "Gadget", "gadget", ("gd",))
GADGET_CRD = open_crd(GADGETS)


class Sleeps(list[float]):
    """The injected sleep: records the retry schedule instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(server: SandboxServer, sleeps: Sleeps, **options: Any) -> KubeClient:
    return KubeClient.from_kubeconfig(server.kubeconfig_path, sleep=sleeps, **options)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def kube(sandbox: SandboxServer, sleeps: Sleeps) -> Iterator[KubeClient]:
    client = client_for(sandbox, sleeps)
    install_crd(client, GADGET_CRD)
    yield client
    client.close()


@pytest.fixture
def fresh_kube(fresh_sandbox: SandboxServer, sleeps: Sleeps) -> Iterator[KubeClient]:
    client = client_for(fresh_sandbox, sleeps, watch_timeout_seconds=5)
    install_crd(client, GADGET_CRD)
    yield client
    client.close()


@pytest.fixture
def namespace(kube: KubeClient) -> Iterator[str]:
    with temporary_namespace(kube, "t") as name:
        yield name


def gadget(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Gadget", "metadata": {"name": name},
            "spec": spec}


class Watcher:
    """Runs `kube.watch()` in a thread and hands its events (or its error) to the test."""

    def __init__(self, kube: KubeClient, resource: Resource, **options: Any) -> None:
        self.stop = threading.Event()
        self.events: queue.Queue[WatchEvent | BaseException] = queue.Queue()
        self._thread = threading.Thread(target=self._run, args=(kube, resource, options),
                                        daemon=True)
        self._thread.start()

    def _run(self, kube: KubeClient, resource: Resource, options: dict[str, Any]) -> None:
        try:
            for event in kube.watch(resource, stop=self.stop, **options):
                self.events.put(event)
        except BaseException as exc:  # handed to the test thread
            self.events.put(exc)

    def next(self, timeout: float = 10) -> WatchEvent:
        item = self.events.get(timeout=timeout)
        if isinstance(item, BaseException):
            raise item
        return item

    def collect(self, count: int, timeout: float = 10) -> list[tuple[str, str]]:
        """The next `count` events as (type, name)."""
        return [(e.type, e.object["metadata"]["name"]) for e in
                (self.next(timeout) for _ in range(count))]

    def quiet(self, seconds: float = 0.5) -> bool:
        try:
            self.events.get(timeout=seconds)
        except queue.Empty:
            return True
        return False

    def close(self, timeout: float = 5) -> bool:
        """Set stop; True when the watch thread ended within `timeout`."""
        self.stop.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()


@pytest.fixture
def watchers() -> Iterator[list[Watcher]]:
    started: list[Watcher] = []
    yield started
    for watcher in started:
        watcher.close()


def test_crud_on_dicts(kube: KubeClient, namespace: str) -> None:
    body = {"metadata": {"name": "cfg", "labels": {"app": "x"}}, "data": {"a": "1"}}
    created = kube.create(CONFIGMAPS, body, namespace=namespace)
    assert created["metadata"]["uid"] and created["data"] == {"a": "1"}
    with pytest.raises(Conflict, match=f"configmaps/{namespace}/cfg: 409"):
        kube.create(CONFIGMAPS, body, namespace=namespace)
    patched = kube.patch_merge(CONFIGMAPS, "cfg", {"data": {"a": None, "b": "2"}},
                               namespace=namespace)
    assert patched["data"] == {"b": "2"}
    assert kube.get(CONFIGMAPS, "cfg", namespace=namespace)["data"] == {"b": "2"}
    kube.create(CONFIGMAPS, {"metadata": {"name": "other"}}, namespace=namespace)
    listing = kube.list(CONFIGMAPS, namespace=namespace, label_selector="app=x")
    assert [o["metadata"]["name"] for o in listing.items] == ["cfg"]
    assert int(listing.resource_version) >= int(patched["metadata"]["resourceVersion"])
    kube.delete(CONFIGMAPS, "cfg", namespace=namespace)
    with pytest.raises(NotFound, match=f"configmaps/{namespace}/cfg"):
        kube.get(CONFIGMAPS, "cfg", namespace=namespace)
    assert kube.delete(CONFIGMAPS, "cfg", namespace=namespace, ignore_not_found=True) is None
    with pytest.raises(NotFound):
        kube.delete(CONFIGMAPS, "cfg", namespace=namespace)


def test_patch_status_does_not_bump_generation(kube: KubeClient) -> None:
    name = unique("g")
    created = kube.create(GADGETS, gadget(name, size=1))
    assert created["metadata"]["generation"] == 1
    after = kube.patch_status(GADGETS, name, {"phase": "Ready", "observedGeneration": 1})
    assert after["status"] == {"phase": "Ready", "observedGeneration": 1}
    assert after["metadata"]["generation"] == 1
    assert after["spec"] == {"size": 1}
    respec = kube.patch_merge(GADGETS, name, {"spec": {"size": 2}})
    assert respec["metadata"]["generation"] == 2
    assert respec["status"]["phase"] == "Ready", "a spec patch leaves status alone"
    kube.delete(GADGETS, name)


def test_watch_delivers_sync_then_changes_in_order(
    kube: KubeClient, namespace: str, watchers: list[Watcher]
) -> None:
    kube.create(CONFIGMAPS, {"metadata": {"name": "before"}}, namespace=namespace)
    watcher = Watcher(kube, CONFIGMAPS, namespace=namespace)
    watchers.append(watcher)
    sync = watcher.next()
    assert sync.type == SYNC
    assert [o["metadata"]["name"] for o in sync.items] == ["before"]
    kube.create(CONFIGMAPS, {"metadata": {"name": "a"}}, namespace=namespace)
    kube.patch_merge(CONFIGMAPS, "a", {"data": {"k": "v"}}, namespace=namespace)
    kube.delete(CONFIGMAPS, "before", namespace=namespace)
    assert watcher.collect(3) == [(ADDED, "a"), (MODIFIED, "a"), (DELETED, "before")]
    assert watcher.quiet()


def test_watch_resumes_after_dropped_streams_without_duplicates_or_losses(
    fresh_sandbox: SandboxServer, fresh_kube: KubeClient, watchers: list[Watcher]
) -> None:
    watcher = Watcher(fresh_kube, GADGETS)
    watchers.append(watcher)
    assert watcher.next().type == SYNC
    expected = []
    for i in range(8):
        fresh_sandbox.faults.drop_watches()
        fresh_kube.create(GADGETS, gadget(f"g{i}", n=i))
        fresh_kube.patch_merge(GADGETS, f"g{i}", {"spec": {"n": -i - 1}})
        expected += [(ADDED, f"g{i}"), (MODIFIED, f"g{i}")]
    assert watcher.collect(len(expected)) == expected
    assert watcher.quiet()


def test_watch_relists_after_410_and_hands_over_the_full_list(
    fresh_sandbox: SandboxServer, fresh_kube: KubeClient, watchers: list[Watcher]
) -> None:
    fresh_kube.create(GADGETS, gadget("old"))
    watcher = Watcher(fresh_kube, GADGETS)
    watchers.append(watcher)
    assert [o["metadata"]["name"] for o in watcher.next().items] == ["old"]
    fresh_kube.create(GADGETS, gadget("seen"))
    assert watcher.collect(1) == [(ADDED, "seen")]
    # Hold the reconnect back while a change happens and the server forgets its history.
    fresh_sandbox.faults.add_latency(0.5, "gadgets", method="GET")
    fresh_sandbox.faults.drop_watches()
    fresh_kube.create(GADGETS, gadget("missed"))
    fresh_sandbox.faults.expire_history()
    relist = watcher.next()
    fresh_sandbox.faults.clear()
    assert relist.type == RELIST
    assert sorted(o["metadata"]["name"] for o in relist.items) == ["missed", "old", "seen"]
    fresh_kube.create(GADGETS, gadget("after"))
    assert watcher.collect(1) == [(ADDED, "after")]


def test_single_calls_retry_injected_server_errors(
    fresh_sandbox: SandboxServer, fresh_kube: KubeClient, sleeps: Sleeps
) -> None:
    fresh_kube.create(GADGETS, gadget("r"))
    fresh_sandbox.faults.fail("gadgets/r", method="GET", status=500, times=2)
    assert fresh_kube.get(GADGETS, "r")["metadata"]["name"] == "r"
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0], "backs off between attempts"
    fresh_sandbox.faults.fail("gadgets/r", method="GET", status=503, times=9)
    with pytest.raises(KubeError, match="gadgets.kube-adapter.test/r: 503"):
        fresh_kube.get(GADGETS, "r")
    fresh_sandbox.faults.clear()
    fresh_sandbox.faults.fail("gadgets/r", method="GET", status=403, times=1)
    sleeps.clear()
    with pytest.raises(KubeError, match="403"):
        fresh_kube.get(GADGETS, "r")
    assert sleeps == [], "client errors are not retried"


def test_watch_survives_failing_reconnects(
    fresh_sandbox: SandboxServer, fresh_kube: KubeClient, sleeps: Sleeps,
    watchers: list[Watcher],
) -> None:
    watcher = Watcher(fresh_kube, GADGETS)
    watchers.append(watcher)
    assert watcher.next().type == SYNC
    fresh_sandbox.faults.fail("gadgets", method="GET", status=500, times=3)
    fresh_sandbox.faults.drop_watches()
    fresh_kube.create(GADGETS, gadget("later"))
    assert watcher.collect(1) == [(ADDED, "later")]
    assert len(sleeps) == 3


def test_stop_ends_an_idle_watch_promptly(fresh_kube: KubeClient) -> None:
    watcher = Watcher(fresh_kube, GADGETS)
    assert watcher.next().type == SYNC
    time.sleep(0.3)  # let it block on the idle stream
    started = time.monotonic()
    assert watcher.close(timeout=3)
    assert time.monotonic() - started < 2


def test_events_are_created_aggregated_and_shown_by_kubectl(
    sandbox: SandboxServer, kube: KubeClient
) -> None:
    name = unique("ev")
    target = kube.create(GADGETS, gadget(name))
    first = kube.post_event(target, type="Warning", reason="HookFailed",
                            message="hooks/a.sh exited 1")
    assert first["metadata"]["namespace"] == "default"
    assert first["involvedObject"]["uid"] == target["metadata"]["uid"]
    assert first["involvedObject"]["kind"] == "Gadget" and first["count"] == 1
    again = kube.post_event(target, type="Warning", reason="HookFailed",
                            message="hooks/a.sh exited 1")
    assert again["metadata"]["name"] == first["metadata"]["name"] and again["count"] == 2
    kube.post_event(target, type="Normal", reason="HelmUpgraded", message="revision 2")
    found = kube.list(Resource("", "v1", "events", True), namespace="default",
                      field_selector=f"involvedObject.name={name}").items
    assert sorted((e["reason"], e["count"]) for e in found) == [
        ("HelmUpgraded", 1), ("HookFailed", 2)]
    described = subprocess.run(
        ["kubectl", "--kubeconfig", str(sandbox.kubeconfig_path), "describe", "gadget", name],
        capture_output=True, text=True, timeout=30)
    assert described.returncode == 0, described.stderr
    assert "HookFailed" in described.stdout and "hooks/a.sh exited 1" in described.stdout
    assert "HelmUpgraded" in described.stdout


def test_resolve_kind_by_any_spelling(kube: KubeClient) -> None:
    assert kube.resolve_kind(None, "gd") == GADGETS
    assert kube.resolve_kind(f"{GROUP}/v1", "Gadget") == GADGETS
    assert kube.resolve_kind("v1", "cm") == CONFIGMAPS
    assert kube.resolve_kind(None, "ConfigMap").plural == "configmaps"
    with pytest.raises(NotFound, match="'Sprocket' in any API group"):
        kube.resolve_kind(None, "Sprocket")


def test_resolve_kind_sees_crds_registered_after_the_first_lookup(
    fresh_kube: KubeClient,
) -> None:
    assert fresh_kube.resolve_kind(None, "gd") == GADGETS
    fresh_kube.create(CRDS, open_crd(Resource(GROUP, "v1", "sprockets", False, "Sprocket",
                                              "sprocket", ("spr",))))
    assert fresh_kube.resolve_kind(None, "spr").kind == "Sprocket"
