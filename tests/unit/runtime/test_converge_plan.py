"""The converge's plan: which modules get a run or a delete for a decision set and a request."""

from __future__ import annotations

import threading
from pathlib import Path

from prometheus_client import CollectorRegistry

from addon_operator.enablement import Decision
from addon_operator.metrics import OperatorMetrics
from addon_operator.queue import TaskQueues, TaskType
from addon_operator.runtime.converge import Converger
from addon_operator.runtime.state import Request
from addon_operator.runtime.status_writer import StatusWriter
from addon_operator.runtime.worker import Attempts

from runtime_fakes import FakeKube, binding_runs, lifecycle_hooks, state_of, write_module


def converger(modules_root: Path, tmp_path: Path, kube: FakeKube):
    for dirname in ("010-a", "020-b", "020-c", "030-d"):
        write_module(modules_root, dirname)
    state = state_of(modules_root)
    hooks = lifecycle_hooks(state, kube, tmp_path)
    conv = Converger(state, hooks, TaskQueues(), bindings=binding_runs(state, hooks, kube),
                     attempts=Attempts(), stop=threading.Event(), run_script=lambda *a: None,
                     metrics=OperatorMetrics(CollectorRegistry()),
                     writer=StatusWriter(kube, state), request=state.request)
    return state, conv


def decisions(**enabled: bool) -> list[Decision]:
    return [Decision(name, flag, "ModuleSpec", "by spec") for name, flag in enabled.items()]


def test_first_converge_runs_enabled_and_checks_disabled(modules_root, tmp_path, kube) -> None:
    state, conv = converger(modules_root, tmp_path, kube)
    plan = conv.plan(decisions(a=True, b=False, c=True, d=False), Request(full=True), "OperatorStartup")
    assert [(t.type, t.key) for t in plan.runs] == [(TaskType.MODULE_RUN, "a"), (TaskType.MODULE_RUN, "c")]
    assert [t.key for t in plan.deletes] == ["d", "b"], "deletes in reverse run order"
    assert all(t.payload["startup"] for t in plan.deletes)
    assert state.modules["a"].status.enabled is True
    assert state.modules["b"].status.enabled_reason == "ModuleSpec"


def test_targeted_converge_runs_the_changed_module_and_the_flips(modules_root, tmp_path, kube) -> None:
    state, conv = converger(modules_root, tmp_path, kube)
    conv.plan(decisions(a=True, b=True, c=True, d=False), Request(full=True), "OperatorStartup")
    for rt in state.known():
        rt.startup_due = False
    plan = conv.plan(decisions(a=True, b=False, c=True, d=True), Request(modules=frozenset({"c"})),
                     "ModuleChanged")
    assert [t.key for t in plan.runs] == ["c", "d"]
    assert [(t.key, t.payload["startup"]) for t in plan.deletes] == [("b", False)]
    assert state.modules["d"].startup_due and not state.modules["c"].startup_due


def test_suspended_module_is_left_alone(modules_root, tmp_path, kube) -> None:
    state, conv = converger(modules_root, tmp_path, kube)
    conv.plan(decisions(a=True, b=True, c=True, d=True), Request(full=True), "OperatorStartup")
    state.modules["b"].suspend = True
    plan = conv.plan(decisions(a=True, b=False, c=True, d=True), Request(full=True), "GlobalConfigChanged")
    assert [t.key for t in plan.runs] == ["a", "c", "d"] and plan.deletes == []
    assert state.modules["b"].status.enabled is True, "a suspended module keeps its state"


def test_module_suspended_from_the_start_reports_suspended(modules_root, tmp_path, kube) -> None:
    state, conv = converger(modules_root, tmp_path, kube)
    state.modules["b"].suspend = state.modules["b"].status.suspended = True
    plan = conv.plan(decisions(a=True, b=True, c=True, d=True), Request(full=True), "OperatorStartup")
    assert "b" not in [t.key for t in plan.runs]
    written = [patch for _, name, patch in kube.status_patches if name == "b"]
    assert written and written[-1]["phase"] == "Suspended"


def test_disabled_module_in_scope_stops_reconciling(modules_root, tmp_path, kube) -> None:
    state, conv = converger(modules_root, tmp_path, kube)
    conv.plan(decisions(a=False, b=True, c=True, d=True), Request(full=True), "OperatorStartup")
    state.modules["a"].status.reconciling = True
    plan = conv.plan(decisions(a=False, b=True, c=True, d=True), Request(modules=frozenset({"a"})),
                     "ModuleChanged")
    assert plan.runs == [] and plan.deletes == []
    assert state.modules["a"].status.reconciling is False
    assert kube.status_patches[-1][1] == "a" and kube.status_patches[-1][2]["phase"] == "Disabled"


def test_requests_merge_until_taken(modules_root) -> None:
    write_module(modules_root, "010-a")
    state = state_of(modules_root)
    state.request(Request(modules=frozenset({"a"})))
    state.request(Request(full=True, startup=True))
    taken = state.take_request()
    assert taken == Request(full=True, startup=True, modules=frozenset({"a"}))
    assert not state.take_request()
