"""The controllers: objects created at start, only generation changes become requests,
deleted objects reset to defaults and come back, GlobalConfig changes ask for a full converge."""

from __future__ import annotations

import threading

from addon_operator.kube import DELETED, MODIFIED, RELIST, WatchEvent
from addon_operator.runtime.controllers import Controllers
from addon_operator.runtime.state import Request
from addon_operator.runtime.status_writer import StatusWriter

from runtime_fakes import FakeKube, state_of, write_module


def controllers(modules_root, kube: FakeKube):
    write_module(modules_root, "010-a")
    write_module(modules_root, "020-b")
    state = state_of(modules_root)
    requests: list[Request] = []
    ctl = Controllers(kube, state, StatusWriter(kube, state), request=requests.append,
                      stop=threading.Event(), sleep=lambda s: None)
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
    assert requests == [Request(full=True)]
    assert state.global_.settings == {"clusterName": "x"}
    other = WatchEvent(MODIFIED, {"metadata": {"name": "other", "generation": 9}, "spec": {}})
    ctl.on_global_event(other)
    assert len(requests) == 1
