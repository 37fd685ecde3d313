"""The controllers: objects created at start, only generation changes become requests,
deleted objects reset to defaults and come back, GlobalConfig changes ask for a full converge;
a deletion racing a status write, a watch that breaks unexpectedly, and a watch thread that
dies (reported by `/healthz`) or stops (not reported)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client import CollectorRegistry

from addon_operator.httpserver import Heartbeats
from addon_operator.metrics import OperatorMetrics
from addon_operator.kube import (
    DELETED, MODIFIED, MODULES, RELIST, KubeError, Resource, WatchEvent,
)
from addon_operator.runtime.controllers import Controllers
from addon_operator.runtime.state import Request
from addon_operator.runtime.status_writer import StatusWriter

from runtime_fakes import FakeKube, state_of, write_module


def metrics() -> OperatorMetrics:
    return OperatorMetrics(CollectorRegistry())


def controllers(modules_root, kube: FakeKube):
    write_module(modules_root, "010-a")
    write_module(modules_root, "020-b")
    state = state_of(modules_root)
    requests: list[Request] = []
    ctl = Controllers(kube, state, StatusWriter(kube, state), request=requests.append,
                      stop=threading.Event(), sleep=lambda s: None, metrics=metrics())
    return state, ctl, requests


def module_event(kind: str, name: str, generation: int, **spec) -> WatchEvent:
    return WatchEvent(kind, {"metadata": {"name": name, "uid": "u", "generation": generation},
                             "spec": spec})


def test_seed_creates_missing_objects_and_reads_specs(modules_root, kube: FakeKube) -> None:
    kube.add("modules", "a", {"enabled": False, "settings": {"x": 1}}, generation=4,
             status={"phase": "Disabled"})
    kube.add("modules", "ghost")
    state, ctl, _ = controllers(modules_root, kube)
    ctl.seed()
    assert kube.created == [("modules", "b"), ("globalconfigs", "global")]
    a = state.modules["a"]
    assert (a.spec_enabled, a.settings, a.generation) == (False, {"x": 1}, 4)
    assert a.written_status == {"phase": "Disabled"}
    assert state.modules["ghost"].module is None
    assert kube.status_patches[0][1] == "ghost" and kube.status_patches[0][2]["phase"] == "Unknown"


def test_only_generation_changes_make_requests(modules_root, kube: FakeKube) -> None:
    state, ctl, requests = controllers(modules_root, kube)
    ctl.on_module_event(module_event(MODIFIED, "a", 1, settings={"x": 1}))
    ctl.on_module_event(module_event(MODIFIED, "a", 1, settings={"x": 1}))   # a status write
    ctl.on_module_event(module_event(MODIFIED, "a", 2, suspend=True))
    assert requests == [Request(modules=frozenset({"a"}))] * 2
    assert state.modules["a"].suspend and state.modules["a"].status.suspended


def test_deleted_module_resets_and_is_created_again(modules_root, kube: FakeKube) -> None:
    state, ctl, requests = controllers(modules_root, kube)
    ctl.on_module_event(module_event(MODIFIED, "a", 3, enabled=False))
    ctl.on_module_event(module_event(DELETED, "a", 3))
    a = state.modules["a"]
    assert (a.spec_enabled, a.settings, a.generation) == (None, None, 0)
    assert ("modules", "a") in kube.created
    assert requests[-1] == Request(modules=frozenset({"a"}))


def test_relist_notices_deletions(modules_root, kube: FakeKube) -> None:
    state, ctl, _ = controllers(modules_root, kube)
    ctl.on_module_event(module_event(MODIFIED, "a", 2, enabled=True))
    ctl.on_module_event(module_event(MODIFIED, "b", 2, enabled=True))
    relist = WatchEvent(RELIST, {"items": [module_event(MODIFIED, "b", 2).object]})
    ctl.on_module_event(relist)
    assert state.modules["a"].spec_enabled is None and state.modules["b"].spec_enabled is True


def test_global_config_change_asks_for_full_converge(modules_root, kube: FakeKube) -> None:
    state, ctl, requests = controllers(modules_root, kube)
    event = WatchEvent(MODIFIED, {"metadata": {"name": "global", "generation": 2},
                                  "spec": {"settings": {"clusterName": "x"}}})
    ctl.on_global_event(event)
    ctl.on_global_event(event)
    assert requests == [Request(full=True, restart=True)], "a running converge restarts"
    assert state.global_.settings == {"clusterName": "x"}
    other = WatchEvent(MODIFIED, {"metadata": {"name": "other", "generation": 9}, "spec": {}})
    ctl.on_global_event(other)
    assert len(requests) == 1


class SlowStatusKube(FakeKube):
    """Status writes wait until `release` is set, so a deletion can arrive meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.writing = threading.Event()
        self.release = threading.Event()

    def patch_status(self, resource, name, status, *, namespace=None):
        self.writing.set()
        self.release.wait(5)
        return super().patch_status(resource, name, status, namespace=namespace)


def test_deletion_during_a_status_write_forgets_the_written_status(modules_root) -> None:
    kube = SlowStatusKube()
    write_module(modules_root, "010-a")
    state = state_of(modules_root)
    writer = StatusWriter(kube, state)
    ctl = Controllers(kube, state, writer, request=lambda r: None, stop=threading.Event(),
                      sleep=lambda s: None, metrics=metrics())
    a = state.modules["a"]
    writing = threading.Thread(target=writer.module, args=(a,))
    writing.start()
    assert kube.writing.wait(5)
    threading.Timer(0.1, kube.release.set).start()   # the write ends after the deletion came
    ctl.on_module_event(module_event(DELETED, "a", 3))
    writing.join(5)
    assert a.written_status is None, "the next status is written in full"


def test_watch_survives_an_unexpected_error(modules_root, kube: FakeKube) -> None:
    starts: list[str | None] = []
    sleeps: list[float] = []
    stop = threading.Event()

    def watch(resource: Resource, *, stop: threading.Event,
              resource_version: str | None = None) -> Iterator[WatchEvent]:
        starts.append(resource_version)
        yield module_event(MODIFIED, "a", len(starts))

    def handle(event: WatchEvent) -> None:
        if len(starts) == 1:
            raise ValueError("a bug in an event handler")
        stop.set()

    kube.watch = watch  # type: ignore[method-assign]
    state = state_of(modules_root)
    ctl = Controllers(kube, state, StatusWriter(kube, state), request=lambda r: None, stop=stop,
                      sleep=sleeps.append, metrics=metrics())
    ctl._watch(MODULES, "7", handle)
    assert starts == ["7", None], "started again from a fresh list"
    assert len(sleeps) == 1 and 0.4 <= sleeps[0] <= 0.5


def test_a_watch_thread_that_dies_is_reported_a_stopped_one_is_not(modules_root,
                                                                    kube: FakeKube) -> None:
    stop, heartbeats = threading.Event(), Heartbeats(60)

    def watch(resource: Resource, *, stop: threading.Event,
              resource_version: str | None = None) -> Iterator[WatchEvent]:
        if resource == MODULES:
            raise KubeError(403, "Forbidden", "watch refused")
        stop.wait(5)
        yield from ()

    def broken_sleep(seconds: float) -> None:
        raise RuntimeError("cannot pause before the restart")

    kube.watch = watch  # type: ignore[method-assign]
    state = state_of(modules_root)
    ctl = Controllers(kube, state, StatusWriter(kube, state), request=lambda r: None, stop=stop,
                      sleep=broken_sleep, metrics=metrics(), heartbeats=heartbeats)
    ctl.start("1", "1")
    ctl.join(0.5)
    assert heartbeats.stale() == ["watch-modules (ended)"]
    stop.set()
    ctl.join(5)
    assert heartbeats.stale() == ["watch-modules (ended)"], "the stopped watch is not reported"

