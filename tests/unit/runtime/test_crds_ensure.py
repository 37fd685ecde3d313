"""A module's `crds/`: files read and checked (several documents, only v1 CRDs, labels added),
applied before the first run after start or enable and not again until the module was
disabled, and a bad file or a refused CRD failing the run with the file named."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from addon_operator.metrics import OperatorMetrics
from addon_operator.runtime.errors import RunFailed
from addon_operator.runtime.events import EventRecorder
from addon_operator.runtime.module_crds import CrdFileError, ModuleCrds, load_crds
from addon_operator.runtime.module_delete import ModuleDeleter
from addon_operator.runtime.module_run import ModuleRunner
from addon_operator.runtime.status_writer import StatusWriter

from runtime_fakes import (
    FakeHelm, FakeKube, binding_runs, hook_script, lifecycle_hooks, state_of, write_module,
)

LABELS = {"heritage": "addon-operator"}
TRACE = 'echo "$(jq -r ".[0].binding" "$BINDING_CONTEXT_PATH")" >> "$TRACE_FILE"'


def crd(name: str, labels: str = "") -> str:
    meta_labels = f"\n  labels: {labels}" if labels else ""
    return (f"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
            f"metadata:\n  name: {name}{meta_labels}\nspec:\n  group: example.com\n")


def write_crds(module_dir: Path, files: dict[str, str]) -> None:
    (module_dir / "crds").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (module_dir / "crds" / name).write_text(text)


def applied_names(kube: FakeKube) -> list[str]:
    return [obj["metadata"]["name"] for _, obj, _, _ in kube.applied]


def test_a_file_holds_several_crds_and_gets_the_extra_labels(tmp_path: Path) -> None:
    path = tmp_path / "widgets.yaml"
    path.write_text("---\n" + crd("widgets.example.com", "{team: a, heritage: me}") + "---\n"
                    + crd("gadgets.example.com") + "---\n")
    found = load_crds(path, LABELS)
    assert [c["metadata"]["name"] for c in found] == ["widgets.example.com",
                                                      "gadgets.example.com"]
    assert found[0]["metadata"]["labels"] == {"team": "a", "heritage": "addon-operator"}
    assert found[1]["metadata"]["labels"] == LABELS
    assert found[0]["spec"] == {"group": "example.com"}


@pytest.mark.parametrize("text, problem", [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
     "crds/x.yaml: document 1: only apiextensions.k8s.io/v1 CustomResourceDefinition objects "
     "belong in crds/, found v1 ConfigMap"),
    (crd("a.example.com") + "---\n- not an object\n",
     "crds/x.yaml: document 2: expected a CustomResourceDefinition object, got a list"),
    ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {}\n",
     "crds/x.yaml: document 1: metadata.name is missing"),
    ("kind: [unclosed\n", "crds/x.yaml: cannot be read as YAML"),
])
def test_a_file_that_is_not_a_list_of_crds_is_refused_with_its_name(
        tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(CrdFileError) as refused:
        load_crds(path, LABELS, shown="crds/x.yaml")
    assert str(refused.value).startswith(problem)


def test_ensure_applies_with_the_operators_field_manager_and_skips_filtered_files(
        modules_root: Path, kube: FakeKube) -> None:
    write_module(modules_root, "010-demo", chart=False)
    write_crds(modules_root / "010-demo", {"widget.yaml": crd("widgets.example.com"),
                                           "doc-example.yaml": "kind: Widget\n",
                                           "_draft.yaml": "not: a crd\n"})
    module = state_of(modules_root).modules["demo"].module
    assert module is not None
    assert ModuleCrds(kube, LABELS).ensure(module) == ["widgets.example.com"]
    (plural, obj, manager, force), = kube.applied
    assert (plural, manager, force) == ("customresourcedefinitions", "addon-operator", True)
    assert obj["metadata"]["labels"] == LABELS


def test_a_broken_file_applies_nothing_and_names_the_file(modules_root: Path,
                                                          kube: FakeKube) -> None:
    write_module(modules_root, "010-demo", chart=False)
    write_crds(modules_root / "010-demo", {"a.yaml": crd("as.example.com"),
                                           "b.yaml": "apiVersion: v1\nkind: Secret\n"})
    module = state_of(modules_root).modules["demo"].module
    assert module is not None
    with pytest.raises(RunFailed) as failed:
        ModuleCrds(kube, LABELS).ensure(module)
    assert failed.value.reason == "CRDsFailed"
    assert failed.value.message.startswith("module demo: crds/b.yaml: document 1: only ")
    assert kube.applied == []


def test_a_refused_crd_fails_with_the_file_and_the_api_answer(modules_root: Path,
                                                              kube: FakeKube) -> None:
    write_module(modules_root, "010-demo", chart=False)
    write_crds(modules_root / "010-demo", {"a.yaml": crd("as.example.com")})
    module = state_of(modules_root).modules["demo"].module
    assert module is not None
    kube.refuse_apply.add("as.example.com")
    with pytest.raises(RunFailed) as failed:
        ModuleCrds(kube, LABELS).ensure(module)
    assert failed.value.message == (
        "module demo: crds/a.yaml: CustomResourceDefinition as.example.com was not applied: "
        "customresourcedefinitions.apiextensions.k8s.io/as.example.com: 422 Invalid: "
        "spec.versions: Required value")


@pytest.fixture
def runs(modules_root: Path, tmp_path: Path, kube: FakeKube):
    """A hooks-only module with one CRD and an onStartup/beforeHelm hook tracing its runs."""
    trace = tmp_path / "trace"
    write_module(modules_root, "010-demo", chart=False, hooks={"trace.sh": hook_script(
        '{"configVersion":"v1","onStartup":1,"beforeHelm":1}', TRACE)})
    write_crds(modules_root / "010-demo", {"widget.yaml": crd("widgets.example.com")})
    state = state_of(modules_root)
    hooks = lifecycle_hooks(state, kube, tmp_path, TRACE_FILE=str(trace))
    bindings = binding_runs(state, hooks, kube)
    helm = FakeHelm()
    runner = ModuleRunner(state, hooks, helm, crds=ModuleCrds(kube, LABELS),
                          bindings=bindings, events=EventRecorder(kube),
                          metrics=OperatorMetrics(CollectorRegistry()),
                          work_dir=tmp_path / "charts", requeue=lambda name: None,
                          stop=threading.Event(), writer=StatusWriter(kube, state))
    deleter = ModuleDeleter(state, hooks, helm, bindings=bindings, events=EventRecorder(kube),
                            writer=StatusWriter(kube, state))
    state.modules["demo"].status.enabled = True
    return state, runner, deleter, trace


def traced(trace: Path) -> list[str]:
    return trace.read_text().split() if trace.exists() else []


def test_crds_are_applied_once_per_start_or_enable(runs, kube: FakeKube) -> None:
    state, runner, deleter, trace = runs
    runtime = state.modules["demo"]
    runner.run("demo", "OperatorStartup")
    runner.run("demo", "ModuleChanged")
    assert applied_names(kube) == ["widgets.example.com"] and not runtime.crds_due
    assert traced(trace) == ["onStartup", "beforeHelm", "beforeHelm"]

    runtime.status.enabled = False
    deleter.delete("demo", "ModuleChanged", startup=False)
    assert runtime.crds_due, "disabling forgets the CRDs were ensured; they stay in the cluster"
    assert len(kube.applied) == 1, "nothing applied on disable (and nothing deleted)"
    runtime.status.enabled = True
    runner.run("demo", "ModuleChanged")
    assert applied_names(kube) == ["widgets.example.com"] * 2


def test_a_refused_crd_fails_the_run_before_any_hook_and_is_retried(
        runs, kube: FakeKube) -> None:
    state, runner, _, trace = runs
    kube.refuse_apply.add("widgets.example.com")
    with pytest.raises(RunFailed, match="crds/widget.yaml"):
        runner.run("demo", "OperatorStartup")
    assert traced(trace) == [] and state.modules["demo"].crds_due
    kube.refuse_apply.clear()
    runner.run("demo", "OperatorStartup")
    assert applied_names(kube) == ["widgets.example.com"]
    assert traced(trace) == ["onStartup", "beforeHelm"]
