"""A module run against a scripted Helm: lifecycle order, upgrade only when needed, no render
when the release was made from the same inputs, invalid settings stop before Helm, a failing
hook fails the run, afterHelm changes queue one more run, a heal run queued by the resource
monitor upgrades although nothing changed; and the delete path."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from addon_operator.helm import ReleaseInfo, inputs_checksum
from addon_operator.metrics import OperatorMetrics
from addon_operator.queue import TaskQueues
from addon_operator.runtime.dispatch import TaskHandlers
from addon_operator.runtime.errors import RunFailed
from addon_operator.runtime.events import EventRecorder
from addon_operator.runtime.module_crds import ModuleCrds
from addon_operator.runtime.module_delete import ModuleDeleter
from addon_operator.runtime.module_run import ModuleRunner
from addon_operator.runtime.state import RuntimeState, take_settings
from addon_operator.runtime.status_writer import StatusWriter

from runtime_fakes import (
    FakeHelm, FakeKube, binding_runs, hook_script, lifecycle_hooks, state_of, write_module,
)

class InputsHelm(FakeHelm):
    """FakeHelm that also labels releases with the render inputs' checksum and counts renders;
    its manifests are the values plus the chart's templates, so template edits change them."""

    def __init__(self) -> None:
        super().__init__()
        self.renders: list[str] = []

    def inputs_checksum(self, release: str, chart_dir: Path, values_file: Path) -> str:
        return inputs_checksum(chart_dir, values_file, release=release, namespace="addons",
                               helm_version="v4.1.4")

    def render(self, release: str, chart_dir: Path, values_file: Path) -> str:
        self.renders.append(release)
        templates = sorted((chart_dir / "templates").iterdir())
        return super().render(release, chart_dir, values_file) + "".join(
            t.read_text() for t in templates)

    def upgrade(self, release: str, chart_dir: Path, values_file: Path, checksum: str,
                inputs_checksum: str | None = None) -> ReleaseInfo:
        info = dataclasses.replace(super().upgrade(release, chart_dir, values_file, checksum),
                                   inputs_checksum=inputs_checksum)
        self.releases[release] = info
        return info


SCHEMA = "type: object\nproperties:\n  replicas:\n    type: integer\n    default: 1\n"
TRACE = 'echo "$(jq -r ".[0].binding" "$BINDING_CONTEXT_PATH")" >> "$TRACE_FILE"'


@pytest.fixture
def setup(modules_root: Path, tmp_path: Path, kube: FakeKube):
    trace = tmp_path / "trace"
    all_bindings = ('{"configVersion":"v1","onStartup":1,"beforeHelm":1,"afterHelm":1,'
                    '"beforeDeleteHelm":1,"afterDeleteHelm":1}')
    write_module(modules_root, "010-demo", config_schema=SCHEMA,
                 hooks={"trace.sh": hook_script(all_bindings, TRACE)})
    state = state_of(modules_root)
    hooks = lifecycle_hooks(state, kube, tmp_path, TRACE_FILE=str(trace))
    helm, requeued = InputsHelm(), []
    metrics = OperatorMetrics(CollectorRegistry())
    bindings = binding_runs(state, hooks, kube)
    runner = ModuleRunner(state, hooks, helm, crds=ModuleCrds(kube, {}), bindings=bindings,
                          events=EventRecorder(kube),
                          metrics=metrics, work_dir=tmp_path / "charts", requeue=requeued.append,
                          stop=threading.Event(), writer=StatusWriter(kube, state))
    deleter = ModuleDeleter(state, hooks, helm, bindings=bindings, events=EventRecorder(kube),
                            writer=StatusWriter(kube, state))
    state.modules["demo"].status.enabled = True
    return state, runner, deleter, helm, trace, requeued, metrics


def runner_for(state: RuntimeState, kube: FakeKube, tmp_path: Path, helm: InputsHelm,
               requeue) -> ModuleRunner:
    hooks = lifecycle_hooks(state, kube, tmp_path)
    return ModuleRunner(state, hooks, helm, crds=ModuleCrds(kube, {}),
                        bindings=binding_runs(state, hooks, kube),
                        events=EventRecorder(kube), metrics=OperatorMetrics(CollectorRegistry()),
                        work_dir=tmp_path / "charts", requeue=requeue, stop=threading.Event(),
                        writer=StatusWriter(kube, state))


def bindings(trace: Path) -> list[str]:
    return trace.read_text().split() if trace.exists() else []


def test_first_run_installs_and_later_runs_skip_helm(setup, kube: FakeKube) -> None:
    state, runner, _, helm, trace, requeued, _ = setup
    runner.run("demo", "OperatorStartup")
    assert bindings(trace) == ["onStartup", "beforeHelm", "afterHelm"]
    assert helm.upgrades == ["demo"]
    status = state.modules["demo"].status
    assert (status.release.revision, status.helm_reason) == (1, "InstallSucceeded")
    assert kube.events[-1][1] == "InstallSucceeded"
    assert status.hooks["hooks/trace.sh"].runs == 3

    runner.run("demo", "ModuleChanged")
    assert bindings(trace)[3:] == ["beforeHelm", "afterHelm"], "onStartup only once"
    assert helm.renders == ["demo"], "same inputs: not even rendered"
    assert helm.upgrades == ["demo"], "same manifests: no upgrade"
    assert status.helm_reason == "UpToDate" and status.release.revision == 1

    take_settings(state.modules["demo"], {"replicas": 3})
    runner.run("demo", "ModuleChanged")
    assert helm.renders == ["demo", "demo"] and helm.upgrades == ["demo", "demo"]
    assert status.release.revision == 2 and status.helm_reason == "UpgradeSucceeded"
    assert requeued == []


def _operations(metrics: OperatorMetrics, operation: str) -> float:
    return sum(s.value for m in metrics.helm_operation_seconds.collect() for s in m.samples
               if s.name.endswith("_count") and s.labels["operation"] == operation)


def test_chart_edit_renders_and_upgrades_with_the_inputs_label(setup,
                                                              modules_root: Path) -> None:
    state, runner, _, helm, _, _, metrics = setup
    runner.run("demo", "OperatorStartup")
    first = state.modules["demo"].status.release
    assert first.inputs_checksum is not None and len(first.inputs_checksum) == 32
    runner.run("demo", "ModuleChanged")
    assert (_operations(metrics, "template"), _operations(metrics, "check-upgrade")) == (1, 2)

    (modules_root / "010-demo" / "templates" / "cm.yaml").write_text("kind: Secret\n")
    runner.run("demo", "ModuleChanged")
    second = state.modules["demo"].status.release
    assert helm.renders == ["demo", "demo"] and helm.upgrades == ["demo", "demo"]
    assert second.revision == 2 and second.inputs_checksum not in (None, first.inputs_checksum)
    assert _operations(metrics, "template") == 2 and _operations(metrics, "upgrade") == 2


def test_release_without_inputs_label_is_rendered_every_run(setup) -> None:
    state, runner, _, helm, *_ = setup
    runner.run("demo", "OperatorStartup")
    # As an upgrade made before the label existed left it: same manifests, no inputs label.
    helm.releases["demo"] = dataclasses.replace(helm.releases["demo"], inputs_checksum=None)
    runner.run("demo", "ModuleChanged")
    runner.run("demo", "ModuleChanged")
    assert helm.renders == ["demo"] * 3 and helm.upgrades == ["demo"]
    assert state.modules["demo"].status.helm_reason == "UpToDate"


def test_heal_run_upgrades_although_nothing_changed(setup, kube: FakeKube) -> None:
    state, runner, deleter, helm, _, _, metrics = setup
    runner.run("demo", "OperatorStartup")
    queues = TaskQueues()
    handlers = TaskHandlers(state, queues, StatusWriter(kube, state), metrics)
    unused = object()   # a module run needs neither the converger nor the bindings
    handlers.wire(unused, runner, deleter, unused)  # type: ignore[arg-type]
    why = "resources absent: addons/Deployment/demo"
    assert handlers.heal("demo", "AbsentHelmResourcesDetected", why)
    handlers.handle(queues.next_ready())   # what a worker does with the queued task
    status = state.modules["demo"].status
    assert helm.renders == ["demo", "demo"] and helm.upgrades == ["demo", "demo"]
    assert (status.release.revision, status.helm_reason) == (2, "UpgradeSucceeded")
    assert status.helm_message == f"release demo upgraded to revision 2: {why}"
    assert kube.events[-1] == ("demo", "UpgradeSucceeded", status.helm_message)


def test_invalid_settings_never_reach_helm(setup) -> None:
    state, runner, _, helm, trace, *_ = setup
    take_settings(state.modules["demo"], {"replicas": "many"})
    runner.run("demo", "ModuleChanged")
    assert helm.upgrades == [] and bindings(trace) == []
    assert state.modules["demo"].status.settings_problems == [
        "settings.replicas: must be of type integer"]


def test_disabled_or_suspended_module_does_nothing(setup) -> None:
    state, runner, _, helm, trace, *_ = setup
    state.modules["demo"].suspend = True
    runner.run("demo", "ModuleChanged")
    state.modules["demo"].suspend = False
    state.modules["demo"].status.enabled = False
    runner.run("demo", "ModuleChanged")
    assert helm.upgrades == [] and bindings(trace) == []


def test_failing_hook_fails_the_run_with_its_stderr(modules_root: Path, tmp_path: Path,
                                                     kube: FakeKube) -> None:
    write_module(modules_root, "010-bad", hooks={"fail.sh": hook_script(
        '{"configVersion":"v1","beforeHelm":1}', 'echo "disk is full" >&2; exit 3')})
    state = state_of(modules_root)
    helm = InputsHelm()
    runner = runner_for(state, kube, tmp_path, helm, requeue=lambda name: None)
    state.modules["bad"].status.enabled = True
    with pytest.raises(RunFailed) as failed:
        runner.run("bad", "OperatorStartup")
    assert failed.value.reason == "HookFailed"
    assert "hooks/fail.sh (beforeHelm) failed: disk is full" in failed.value.message
    assert helm.upgrades == []
    hook = state.modules["bad"].status.hooks["hooks/fail.sh"]
    assert (hook.failures, str(hook.last_result)) == (1, "Failed")
    assert kube.events[-1][1] == "HookFailed"


def test_after_helm_values_change_requeues_once(modules_root: Path, tmp_path: Path,
                                                kube: FakeKube) -> None:
    patch = """echo '{"op":"add","path":"/stamped/at","value":"x"}' >> "$VALUES_JSON_PATCH_PATH" """
    write_module(modules_root, "010-stamped", hooks={"stamp.sh": hook_script(
        '{"configVersion":"v1","afterHelm":1}', patch)})
    state = state_of(modules_root)
    requeued: list[str] = []
    runner = runner_for(state, kube, tmp_path, InputsHelm(), requeue=requeued.append)
    state.modules["stamped"].status.enabled = True
    runner.run("stamped", "OperatorStartup")
    runner.run("stamped", "AfterHelm-Hooks-Change-Values")
    assert requeued == ["stamped"]
    assert state.module_inputs(state.modules["stamped"]).module_values() == {"at": "x"}


def test_delete_runs_hooks_around_uninstall_and_resets(setup) -> None:
    state, runner, deleter, helm, trace, *_ = setup
    runner.run("demo", "OperatorStartup")
    runtime = state.modules["demo"]
    runtime.status.enabled = False
    deleter.delete("demo", "ModuleChanged", startup=False)
    assert bindings(trace)[3:] == ["beforeDeleteHelm", "afterDeleteHelm"]
    assert helm.uninstalls == ["demo"] and runtime.status.release is None
    assert runtime.startup_due and runtime.status.helm_reason == "Uninstalled"


def test_delete_at_startup_without_release_runs_nothing(setup) -> None:
    state, _, deleter, helm, trace, *_ = setup
    state.modules["demo"].status.enabled = False
    deleter.delete("demo", "OperatorStartup", startup=True)
    assert bindings(trace) == [] and helm.uninstalls == []


def test_purge_removes_only_owned_releases_of_unknown_modules(setup) -> None:
    state, runner, deleter, helm, *_ = setup
    runner.run("demo", "OperatorStartup")
    helm.releases["gone"] = ReleaseInfo("gone", "addons", 3, "deployed", "gone", "1.0", owned=True)
    helm.releases["foreign"] = ReleaseInfo("foreign", "addons", 1, "deployed", "x", "1.0")
    assert deleter.purge_unknown() == ["gone"]
    assert set(helm.releases) == {"demo", "foreign"}


def test_unknown_module_values_are_refused(setup) -> None:
    state: RuntimeState = setup[0]
    with pytest.raises(ValueError, match="no module of this name"):
        state.module_inputs(state.module("ghost")).module_values()


def test_invalid_settings_after_a_restart_keep_the_release_in_the_status(setup) -> None:
    state, runner, _, helm, *_ = setup
    helm.releases["demo"] = ReleaseInfo("demo", "addons", 7, "deployed", "demo", "0.1.0",
                                        owned=True)
    take_settings(state.modules["demo"], {"replicas": "many"})
    runner.run("demo", "OperatorStartup")
    runner.run("demo", "ModuleChanged")
    assert state.modules["demo"].status.release == helm.releases["demo"]
    assert helm.status_reads == ["demo"], "read once, when unknown"
    assert helm.upgrades == []
