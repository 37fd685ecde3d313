"""Hook-run tasks of kubernetes and schedule bindings: queue placement, stale requests dropped,
combining the same hook's queued requests, values changes re-running the module."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from addon_operator.bindings import HookRef, RunRequest
from addon_operator.discovery import discover
from addon_operator.hooks.contexts import BindingContext
from addon_operator.queue import MAIN, TaskQueues, TaskType
from addon_operator.runtime.binding_runs import BindingRuns
from addon_operator.runtime.errors import RunFailed
from addon_operator.runtime.state import RuntimeState
from addon_operator.values import Schemas

from runtime_fakes import FakeKube, hook_script, lifecycle_hooks, state_of, write_module

CONFIG = ('{"configVersion":"v1","schedule":[{"name":"tick","crontab":"* * * * *"}],'
          '"kubernetes":[{"name":"pods","kind":"Pod"}]}')
PATCH = """jq -c '{op:"add",path:"/demo/n",value:length}' "$BINDING_CONTEXT_PATH" >> "$VALUES_JSON_PATCH_PATH" """


class FakeEngine:
    """The `HookBindings` calls a hook-run task makes."""

    def __init__(self) -> None:
        self.stale: set[int] = set()
        self.done_batches: list[list[int]] = []

    def is_current(self, request: RunRequest) -> bool:
        return request.serial not in self.stale

    def reserve(self, hook: HookRef) -> float:
        return 0.0

    def contexts(self, hook: HookRef, requests: list[RunRequest]) -> list[BindingContext]:
        return [r.context for r in requests]

    def done(self, requests: list[RunRequest]) -> None:
        self.done_batches.append([r.serial for r in requests])


def setup(modules_root: Path, tmp_path: Path, kube: FakeKube):
    write_module(modules_root, "010-demo", hooks={"h.sh": hook_script(CONFIG, PATCH)})
    state = state_of(modules_root)
    hooks = lifecycle_hooks(state, kube, tmp_path)
    runtime = state.modules["demo"]
    runtime.status.enabled = True
    hooks.ensure_module_hooks(runtime)
    queues, requeued, ensured = TaskQueues(), [], []
    runs = BindingRuns(state, hooks, queues, ensure_queue=ensured.append, request=state.request,
                       requeue=requeued.append, sync_timeout=1, sleep=lambda s: None)
    engine = FakeEngine()
    runs.attach(engine)  # type: ignore[arg-type]
    return state, runs, queues, engine, requeued, ensured


def request(serial: int, *, queue: str = MAIN, sync: bool = False) -> RunRequest:
    context = (BindingContext("pods", "Synchronization") if sync
               else BindingContext("tick", "Schedule"))
    return RunRequest(HookRef("hooks/h.sh", "demo"), "pods" if sync else "tick", queue, context,
                      synchronization=sync, serial=serial)


def run_next(runs: BindingRuns, queues: TaskQueues) -> None:
    task = queues.next_ready()
    runs.run(task)
    queues.done(task)


def test_emit_places_tasks(modules_root, tmp_path, kube) -> None:
    _, runs, queues, _, _, ensured = setup(modules_root, tmp_path, kube)
    runs.emit(request(1))
    runs.emit(request(2, sync=True))
    runs.emit(request(3, queue="slow"))
    assert [t.payload["request"].serial for t in queues.pending(MAIN)] == [2, 1]
    task = queues.pending(MAIN)[0]
    assert (task.type, task.key, task.module) == (TaskType.MODULE_HOOK_RUN, "demo:hooks/h.sh", "demo")
    assert [t.payload["request"].serial for t in queues.pending("slow")] == [3]
    assert ensured == [MAIN, MAIN, "slow"]


def test_queued_requests_of_the_hook_run_once_and_rerun_the_module(modules_root, tmp_path, kube) -> None:
    state, runs, queues, engine, requeued, _ = setup(modules_root, tmp_path, kube)
    for serial in (1, 2, 3):
        runs.emit(request(serial))
    run_next(runs, queues)
    assert engine.done_batches == [[1, 2, 3]] and queues.pending() == []
    assert state.module_values(state.modules["demo"]) == {"n": 3}, "one run with three contexts"
    assert requeued == ["demo"]
    assert state.modules["demo"].status.hooks["hooks/h.sh"].runs == 1


def test_stale_requests_are_dropped_and_synchronization_changes_rerun_nothing(
        modules_root, tmp_path, kube) -> None:
    state, runs, queues, engine, requeued, _ = setup(modules_root, tmp_path, kube)
    engine.stale.add(1)
    runs.emit(request(1))
    run_next(runs, queues)
    assert engine.done_batches == [] and state.modules["demo"].patches == []
    runs.emit(request(2, sync=True))
    run_next(runs, queues)
    assert engine.done_batches == [[2]]
    assert state.module_values(state.modules["demo"]) == {"n": 1} and requeued == []


class SyncEngine(FakeEngine):
    """Adds what `enable_module` uses: enabling, disabling and the synchronized state."""

    def __init__(self) -> None:
        super().__init__()
        self.enabled: list[HookRef] = []
        self.disabled: list[HookRef] = []
        self.synced: set[HookRef] = set()

    def enable_schedules(self, ref: HookRef, config: object) -> None:
        self.enabled.append(ref)

    def enable_kubernetes(self, ref: HookRef, config: object) -> None:
        pass

    def disable(self, ref: HookRef) -> None:
        self.disabled.append(ref)

    def synchronized(self, ref: HookRef) -> bool:
        return ref in self.synced


def sync_setup(modules_root: Path, tmp_path: Path, kube: FakeKube, body: str = PATCH):
    write_module(modules_root, "010-demo", hooks={"h.sh": hook_script(CONFIG, body)})
    state = state_of(modules_root)
    hooks = lifecycle_hooks(state, kube, tmp_path)
    runtime = state.modules["demo"]
    runtime.status.enabled = True
    hooks.ensure_module_hooks(runtime)
    queues = TaskQueues()
    runs = BindingRuns(state, hooks, queues, ensure_queue=queues.ensure, request=state.request,
                       requeue=lambda name: None, sync_timeout=5, sleep=lambda s: None)
    engine = SyncEngine()
    runs.attach(engine)  # type: ignore[arg-type]
    return state, runs, queues, engine


def test_a_failed_synchronization_stops_the_bindings_so_the_retry_starts_afresh(
        modules_root, tmp_path, kube) -> None:
    state, runs, queues, engine = sync_setup(modules_root, tmp_path, kube, body="exit 3")
    runtime = state.modules["demo"]
    runs.emit(request(1, sync=True))
    with pytest.raises(RunFailed):
        runs.enable_module(runtime, threading.Event())
    assert engine.disabled == [HookRef("hooks/h.sh", "demo")]
    assert runtime.bindings_enabled is False, "the next run enables them again"
    engine.synced.add(HookRef("hooks/h.sh", "demo"))
    runs.enable_module(runtime, threading.Event())
    assert engine.enabled == [HookRef("hooks/h.sh", "demo")] * 2


def test_a_binding_that_cannot_be_set_up_fails_the_run_at_once(modules_root, tmp_path, kube) -> None:
    state, runs, _, engine = sync_setup(modules_root, tmp_path, kube)
    runtime = state.modules["demo"]
    runs.report(HookRef("hooks/h.sh", "demo"), "pods", "kind 'Pod' is not served by the API")
    with pytest.raises(RunFailed) as failed:
        runs.enable_module(runtime, threading.Event())
    assert failed.value.reason == "BindingFailed"
    assert "binding pods: kind 'Pod' is not served" in failed.value.message
    assert engine.disabled == [HookRef("hooks/h.sh", "demo")]


def test_no_binding_runs_for_a_suspended_or_disabled_module(modules_root, tmp_path, kube) -> None:
    state, runs, queues, engine = sync_setup(modules_root, tmp_path, kube)
    runtime = state.modules["demo"]
    runtime.status.enabled = False
    runs.emit(request(1))
    run_next(runs, queues)
    runtime.status.enabled, runtime.suspend = True, True
    runtime.bindings_enabled = True
    runs.emit(request(2))
    run_next(runs, queues)
    assert runtime.status.hooks.get("hooks/h.sh") is None or \
        runtime.status.hooks["hooks/h.sh"].runs == 0, "the hook never ran"
    assert state.modules["demo"].patches == []
    assert engine.disabled == [HookRef("hooks/h.sh", "demo")] and not runtime.bindings_enabled


def test_a_global_binding_that_cannot_be_set_up_fails_the_wait_at_once(
        modules_root, tmp_path, kube) -> None:
    hooks_dir = tmp_path / "global-hooks" / "hooks"
    hooks_dir.mkdir(parents=True)
    (hooks_dir / "g.sh").write_text(hook_script(CONFIG, "true"))
    (hooks_dir / "g.sh").chmod(0o755)
    state = RuntimeState(discover([modules_root], tmp_path / "global-hooks"), Schemas(), [], 3)
    hooks = lifecycle_hooks(state, kube, tmp_path)
    hooks.configure_global()
    queues = TaskQueues()
    runs = BindingRuns(state, hooks, queues, ensure_queue=queues.ensure, request=state.request,
                       requeue=lambda name: None, sync_timeout=300)
    engine = SyncEngine()
    engine.wait_synchronized = lambda refs, timeout: False  # type: ignore[method-assign]
    runs.attach(engine)  # type: ignore[arg-type]
    runs.report(HookRef("g.sh", None), "pods", "kind 'Pod' is not served by the API")
    with pytest.raises(RunFailed) as failed:
        runs.enable_global()
    assert failed.value.reason == "BindingFailed"
    assert "g.sh: binding pods: kind 'Pod' is not served" in failed.value.message
