"""The converge stops between weight groups and, once stopping, never runs `afterAll`."""

from __future__ import annotations

import threading

import pytest
from prometheus_client import CollectorRegistry

from addon_operator.metrics import OperatorMetrics
from addon_operator.queue import Task, TaskQueues
from addon_operator.runtime.converge import Converger
from addon_operator.runtime.errors import RunFailed
from addon_operator.runtime.state import Request
from addon_operator.runtime.status_writer import StatusWriter
from addon_operator.runtime.worker import Attempts

from runtime_fakes import FakeHelm, binding_runs, converger, lifecycle_hooks, state_of, write_module


def test_stop_during_the_last_group_skips_after_all(modules_root, tmp_path, kube,
                                                    monkeypatch) -> None:
    write_module(modules_root, "010-a")
    state = state_of(modules_root)
    state.modules["a"].spec_enabled = True
    hooks = lifecycle_hooks(state, kube, tmp_path)
    stop = threading.Event()
    bindings = binding_runs(state, hooks, kube)
    conv = Converger(state, hooks, TaskQueues(), bindings=bindings, attempts=Attempts(),
                     stop=stop, run_script=lambda *a: None,
                     metrics=OperatorMetrics(CollectorRegistry()),
                     writer=StatusWriter(kube, state), request=state.request, helm=FakeHelm())
    bindings_run: list[str] = []
    monkeypatch.setattr(hooks, "run_global", lambda binding, activation:
                        bindings_run.append(binding))
    groups: list[list[str]] = []

    def run_and_wait(tasks: list[Task]) -> None:
        if tasks:
            groups.append([t.key for t in tasks])
            stop.set()    # SIGTERM while the (only, so last) group runs

    monkeypatch.setattr(conv, "_run_and_wait", run_and_wait)
    state.request(Request(full=True))
    with pytest.raises(RunFailed, match="stopping"):
        conv.converge()
    assert groups == [["a"]]
    assert bindings_run == ["beforeAll"], "afterAll must not run once stopping"
    assert not state.global_.status.converged


@pytest.mark.parametrize("error", [RunFailed("HookFailed", "beforeAll failed"),
                                   KeyError("a bug")], ids=["run-failed", "crash"])
def test_a_failed_converge_keeps_its_request_for_the_retry(modules_root, tmp_path, kube,
                                                           monkeypatch, error: Exception) -> None:
    state, conv = converger(modules_root, tmp_path, kube)

    def fail(binding: str, activation: str) -> None:
        raise error

    monkeypatch.setattr(conv._hooks, "run_global", fail)
    state.request(Request(full=True, startup=True))
    with pytest.raises(type(error)):
        conv.converge()
    assert state.take_request() == Request(full=True, startup=True), "nothing is lost"
