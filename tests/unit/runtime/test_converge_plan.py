"""The converge's plan: which modules get a run or a delete for a decision set and a request;
invalid global settings block nothing; suspended modules keep their release in the status."""

from __future__ import annotations

from addon_operator.enablement import Decision
from addon_operator.helm import ReleaseInfo
from addon_operator.queue import TaskQueues, TaskType
from addon_operator.runtime.state import Request, take_settings
from addon_operator.values import Schemas

from runtime_fakes import FakeHelm, converger, state_of, write_module


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


GLOBAL_SCHEMA = {"type": "object", "properties": {"size": {"type": "integer", "default": 1}}}
SIZE_PROBLEM = ["settings.size: must be of type integer"]


def test_invalid_global_settings_do_not_block_disabling(modules_root, tmp_path, kube) -> None:
    queues = TaskQueues()
    state, conv = converger(modules_root, tmp_path, kube, queues=queues)
    state.global_.schemas = Schemas.load(GLOBAL_SCHEMA, None, owner="global")
    for rt in state.known():
        rt.spec_enabled = rt.status.enabled = True
    take_settings(state.global_, {"size": 2})
    take_settings(state.global_, {"size": "big"})
    state.modules["a"].spec_enabled = False
    state.request(Request(modules=frozenset({"a"})))
    conv.converge()
    assert [(t.type, t.key) for t in queues.pending()] == [(TaskType.MODULE_DELETE, "a")]
    assert state.global_.status.settings_problems == SIZE_PROBLEM
    assert state.global_values() == {"size": 2}, "the last good global values"
    assert not state.take_request(), "nothing waits for the settings to be fixed"


def test_invalid_global_settings_at_start_still_converge(modules_root, tmp_path, kube) -> None:
    state, conv = converger(modules_root, tmp_path, kube)
    state.global_.schemas = Schemas.load(GLOBAL_SCHEMA, None, owner="global")
    take_settings(state.global_, {"size": "big"})
    state.request(Request(full=True, startup=True))
    conv.converge()
    assert state.global_.status.converged, "the operator becomes ready"
    assert state.global_.status.settings_problems == SIZE_PROBLEM
    assert state.global_values() == {"size": 1}, "no last good settings: the defaults"


def test_suspended_module_reads_its_release_once(modules_root, tmp_path, kube) -> None:
    helm = FakeHelm()
    helm.releases["b"] = ReleaseInfo("b", "addons", 4, "deployed", "b", "0.1.0", owned=True)
    state, conv = converger(modules_root, tmp_path, kube, helm=helm)
    state.modules["b"].suspend = state.modules["b"].status.suspended = True
    for _ in range(2):
        conv.plan(decisions(a=True, b=True, c=True, d=True), Request(full=True), "OperatorStartup")
    assert state.modules["b"].status.release == helm.releases["b"]
    assert helm.status_reads == ["b"]
    written = [patch for _, name, patch in kube.status_patches if name == "b"]
    assert written[-1]["release"]["revision"] == 4
