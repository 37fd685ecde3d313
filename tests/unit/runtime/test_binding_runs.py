"""Hook-run tasks of kubernetes and schedule bindings: queue placement, stale requests dropped,
combining the same hook's queued requests, compaction of a flood, values changes re-running the
module."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from addon_operator.bindings import HookRef, RunRequest
from addon_operator.discovery import discover
from addon_operator.hooks.contexts import BindingContext
from addon_operator.queue import MAIN, TaskQueues, TaskType
from addon_operator.runtime.binding_runs import BindingRuns, merge_runs
from addon_operator.runtime.errors import RunFailed
from addon_operator.runtime.hook_runs import LifecycleHooks
from addon_operator.runtime.state import Request, RuntimeState
from addon_operator.values import Schemas

from runtime_fakes import (
    FakeKube, global_state, hook_script, lifecycle_hooks, state_of, write_module,
)

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


def demo_module(modules_root: Path, tmp_path: Path, kube: FakeKube, body: str = PATCH
                ) -> tuple[RuntimeState, LifecycleHooks]:
    """The enabled module `demo` with the hook `h.sh` (bindings `tick` and `pods`)."""
    write_module(modules_root, "010-demo", hooks={"h.sh": hook_script(CONFIG, body)})
    state = state_of(modules_root)
    hooks = lifecycle_hooks(state, kube, tmp_path)
    runtime = state.modules["demo"]
    runtime.status.enabled = True
    hooks.ensure_module_hooks(runtime)
    return state, hooks


def wired(state: RuntimeState, hooks: LifecycleHooks, engine: object, *,
          requeue: Callable[[str], None] = lambda name: None,
          ensure_queue: Callable[[str], None] | None = None,
          sync_timeout: float = 1) -> tuple[BindingRuns, TaskQueues]:
    """`BindingRuns` over a fresh queue (compaction on) and a fake engine; no sleeping."""
    queues = TaskQueues(merge=merge_runs)
    runs = BindingRuns(state, hooks, queues, ensure_queue=ensure_queue or queues.ensure,
                       request=state.request, requeue=requeue, sync_timeout=sync_timeout,
                       sleep=lambda s: None)
    runs.attach(engine)  # type: ignore[arg-type]
    return runs, queues


def setup(modules_root: Path, tmp_path: Path, kube: FakeKube):
    state, hooks = demo_module(modules_root, tmp_path, kube)
    requeued: list[str] = []
    ensured: list[str] = []
    engine = FakeEngine()
    runs, queues = wired(state, hooks, engine, requeue=requeued.append,
                         ensure_queue=ensured.append)
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
    assert state.module_inputs(state.modules["demo"]).module_values() == {"n": 3}, "one run with three contexts"
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
    assert state.module_inputs(state.modules["demo"]).module_values() == {"n": 1} and requeued == []


def test_a_flood_of_one_hook_is_compacted_and_runs_once(modules_root, tmp_path, kube) -> None:
    state, runs, queues, engine, _, _ = setup(modules_root, tmp_path, kube)
    for serial in range(1, 102):
        quiet = replace(request(serial, queue="q", sync=True), run_hook=False)
        runs.emit(quiet if serial == 50 else request(serial, queue="q"))
    assert len(queues.pending("q")) == 1, "101 tasks in the queue: merged into the first"
    task = queues.next_ready("q")
    runs.run(task)
    queues.done(task)
    assert engine.done_batches == [list(range(1, 102))], "the merged Synchronization is done too"
    assert state.module_inputs(state.modules["demo"]).module_values() == {"n": 100}, \
        "one run; the Synchronization that must not run the hook gives no context"
    assert state.modules["demo"].status.hooks["hooks/h.sh"].runs == 1


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
    state, hooks = demo_module(modules_root, tmp_path, kube, body)
    engine = SyncEngine()
    runs, queues = wired(state, hooks, engine, sync_timeout=5)
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


def test_a_synchronization_merged_into_a_flood_is_run_by_the_module_run(
        modules_root, tmp_path, kube) -> None:
    state, runs, queues, engine = sync_setup(modules_root, tmp_path, kube)
    runtime, ref = state.modules["demo"], HookRef("hooks/h.sh", "demo")

    def done(requests: list[RunRequest]) -> None:
        engine.synced.update(r.hook for r in requests if r.synchronization)

    engine.done = done  # type: ignore[method-assign]
    for serial in range(1, 101):
        runs.emit(request(serial, queue="q"))
    runs.emit(request(101, queue="q", sync=True))
    assert len(queues.pending("q")) == 1, "the Synchronization was merged into the first run"
    runs.enable_module(runtime, threading.Event())
    assert engine.synced == {ref} and queues.pending("q") == []
    assert runtime.status.hooks["hooks/h.sh"].runs == 1


@pytest.mark.parametrize(("patch", "expected"), [
    ('{"op":"add","path":"/demoEnabled","value":false}', Request(full=True, restart=True)),
    ('{"op":"add","path":"/global/size","value":3}', Request(full=True)),
], ids=["enabled-restarts", "values-queue-after"])
def test_global_hook_events_ask_for_a_converge(modules_root, tmp_path, kube, patch: str,
                                               expected: Request) -> None:
    """A global hook's `*Enabled` patch may change the enabled set: a running converge restarts
    (as upstream; docs/differences.md, "Operations"); a values change only asks for another
    converge after it."""
    write_module(modules_root, "010-demo")
    state = global_state(tmp_path, modules_root, {"tick.sh": hook_script(
        '{"configVersion":"v1","schedule":[{"name":"tick","crontab":"* * * * *"}]}',
        f"echo '{patch}' >> \"$VALUES_JSON_PATCH_PATH\"")})
    hooks = lifecycle_hooks(state, kube, tmp_path)
    hooks.configure_global()
    runs, queues = wired(state, hooks, FakeEngine())
    runs.emit(RunRequest(HookRef("tick.sh", None), "tick", MAIN,
                         BindingContext("tick", "Schedule"), serial=1))
    run_next(runs, queues)
    assert state.take_request() == expected
    runs.emit(RunRequest(HookRef("tick.sh", None), "tick", MAIN,
                         BindingContext("tick", "Schedule"), serial=2))
    run_next(runs, queues)
    assert not state.take_request(), "the same patch again changes nothing"
