"""Kubernetes and schedule bindings in the runtime: enabling them, and the hook-run tasks.

`bindings.HookBindings` watches and ticks; `BindingRuns` is its runtime side (docs/hooks.md,
"`kubernetes` and `schedule` bindings"):

- `emit(request)` queues one `GlobalHookRun` / `ModuleHookRun` task per request in the
  binding's queue (a `main` Synchronization at the head), starting a worker for a new queue;
- `enable_global()` (the start-up converge, after global `onStartup`) and `enable_module()`
  (a module run, after `onStartup`) start the hooks' bindings and wait for their
  Synchronization. A module's Synchronization tasks are run inline by its run, since the queue
  never runs two tasks of one module at once; `disable_module()` stops them on disable;
- `run(task)` runs a hook-run task: drops stale requests, waits for the hook's rate limit,
  combines the same hook's requests queued right behind it, runs the hook once with all their
  contexts, and unlocks Events after a Synchronization. A values change queues a `ModuleRun`
  (module hooks) or a full converge (global hooks), except after a Synchronization;
- `merge_runs` is the queue's compaction merge: a task carries its first request in
  `payload["request"]` and any merged ones in `payload["merged"]` (`requests_of(task)`). A
  merged Synchronization is done when the merged task runs: the module run and the start-up
  wait find it in the queue like an unmerged one, so waiting for it never hangs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from addon_operator.bindings import HookBindings, HookRef, RunRequest, absorbable
from addon_operator.hooks.contexts import render_contexts
from addon_operator.hooks.execute import HookSpec
from addon_operator.queue import MAIN, Task, TaskQueues, TaskType
from addon_operator.status import HookState

from .errors import RunFailed
from .hook_runs import LifecycleHooks
from .state import ModuleRuntime, Request, RuntimeState


HOOK_TASKS = (TaskType.GLOBAL_HOOK_RUN, TaskType.MODULE_HOOK_RUN)
POLL_SECONDS = 0.1


class BindingRuns:
    def __init__(self, state: RuntimeState, hooks: LifecycleHooks, queues: TaskQueues, *,
                 ensure_queue: Callable[[str], None], request: Callable[[Request], None],
                 requeue: Callable[[str], None], sync_timeout: float,
                 sleep: Callable[[float], None] = time.sleep,
                 write_status: Callable[[ModuleRuntime | None], None] | None = None) -> None:
        self._state = state
        self._hooks = hooks
        self._queues = queues
        self._ensure_queue = ensure_queue
        self._request = request
        self._requeue = requeue
        self._sync_timeout = sync_timeout
        self._sleep = sleep
        self._write_status = write_status
        self._bindings: HookBindings | None = None
        self._global_refs: list[HookRef] | None = None

    def attach(self, bindings: HookBindings) -> None:
        """The engine (built with `emit` and `report` of this object)."""
        self._bindings = bindings

    @property
    def bindings(self) -> HookBindings:
        if self._bindings is None:
            raise RuntimeError("BindingRuns.attach() must be called first")
        return self._bindings

    # ---- from the engine (watch and timer threads) -----------------------------------------

    def emit(self, request: RunRequest) -> None:
        self._ensure_queue(request.queue)
        self._queues.put(hook_run_task(request),
                         head=request.synchronization and request.queue == MAIN)

    def report(self, hook: HookRef, binding: str, message: str | None) -> None:
        """A binding that cannot be set up (`message`), or is set up again (None): shown in
        the hook's status entry until it is resolved (the engine logs it)."""
        spec, runtime = self._hook(hook)
        if spec is None:
            return
        owner = self._state.global_ if runtime is None else runtime
        with self._state.lock:
            state = owner.status.hooks.setdefault(
                spec.name, HookState(spec.name, tuple(spec.config.binding_names())))
            if message is None:
                state.binding_problems.pop(binding, None)
            else:
                state.binding_problems[binding] = message
        if self._write_status is not None:
            self._write_status(runtime)

    def snapshots(self, spec: HookSpec, module: str | None) -> dict[str, list[Any]]:
        """`LifecycleHooks`' snapshot source."""
        return self.bindings.snapshots(HookRef(spec.name, module), spec.config)

    # ---- enabling ----------------------------------------------------------------------------

    def enable_global(self) -> None:
        """Start the global hooks' bindings (once) and wait for their Synchronization."""
        if self._global_refs is None:
            self._global_refs = self._enable(self._state.global_.hooks, None)
        refs = self._global_refs
        deadline = time.monotonic() + self._sync_timeout
        while refs and not self.bindings.wait_synchronized(refs, POLL_SECONDS):
            broken = _binding_problems(self._state.global_.status.hooks.values())
            if broken:
                raise RunFailed("BindingFailed", f"global hooks: {broken}")
            if time.monotonic() > deadline:
                raise RunFailed("SynchronizationTimeout", "global hooks: kubernetes bindings "
                                f"not synchronized within {self._sync_timeout:g}s")

    def enable_module(self, runtime: ModuleRuntime, stop: threading.Event) -> None:
        """Start the module's bindings (once per enable) and run its Synchronizations until
        every binding that start-up waits for is synchronized (a no-op on later runs).

        A failed Synchronization, a binding that cannot be set up (its kind is not served)
        or the timeout stops the bindings again and fails the run: the retry starts them
        afresh, with a new Synchronization (each monitor sends only one)."""
        if not runtime.bindings_enabled:
            self._enable(runtime.hooks or [], runtime.name)
            runtime.bindings_enabled = True
        try:
            self._synchronize(runtime, stop)
        except RunFailed:
            self.disable_module(runtime)
            raise

    def _synchronize(self, runtime: ModuleRuntime, stop: threading.Event) -> None:
        refs = [HookRef(spec.name, runtime.name) for spec in runtime.hooks or []
                if spec.config.kubernetes]
        deadline = time.monotonic() + self._sync_timeout
        while not all(self.bindings.synchronized(ref) for ref in refs):
            for task in self._queues.remove(lambda t: _synchronization_of(t, runtime.name)):
                self.run(task)
            broken = _binding_problems(runtime.status.hooks.values())
            if broken:
                raise RunFailed("BindingFailed", f"module {runtime.name}: {broken}")
            if stop.is_set() or time.monotonic() > deadline:
                raise RunFailed("SynchronizationTimeout", f"module {runtime.name}: kubernetes "
                                f"bindings not synchronized within {self._sync_timeout:g}s")
            self._sleep(POLL_SECONDS)


    def disable_module(self, runtime: ModuleRuntime) -> None:
        for spec in runtime.hooks or []:
            self.bindings.disable(HookRef(spec.name, runtime.name))
        runtime.bindings_enabled = False

    def _enable(self, specs: list[HookSpec], module: str | None) -> list[HookRef]:
        refs = []
        for spec in specs:
            if not (spec.config.kubernetes or spec.config.schedules):
                continue
            ref = HookRef(spec.name, module)
            self.bindings.enable_schedules(ref, spec.config)
            self.bindings.enable_kubernetes(ref, spec.config)
            refs.append(ref)
        return refs

    # ---- hook-run tasks ----------------------------------------------------------------------

    def run(self, task: Task) -> None:
        current = [r for r in requests_of(task) if self.bindings.is_current(r)]
        request = task.payload["request"]
        ref = request.hook
        spec, runtime = self._hook(ref)
        if spec is None or not current:
            return   # the hook or its module was disabled meanwhile
        if runtime is not None and runtime.suspend:
            # Suspended: no hook runs. The bindings stop until the next module run starts
            # them afresh (with a new Synchronization) after `suspend` is lifted.
            self.disable_module(runtime)
            return
        if runtime is not None and runtime.status.enabled is not True:
            return   # being disabled (its delete may be retrying): no more binding runs
        self._sleep(self.bindings.reserve(ref))
        requests = [*current, *self._absorb(task, request, spec)]
        runs = [r for r in requests if r.run_hook]   # merged Synchronizations may not run
        if not runs:
            self.bindings.done(requests)
            return
        contexts = render_contexts(self.bindings.contexts(ref, runs), spec.config.version)
        enabled_before = dict(self._state.global_.dynamic_enabled)
        inputs = (self._state.global_inputs() if runtime is None
                  else self._state.module_inputs(runtime))
        changed = self._hooks.run_one(spec, runtime, inputs, contexts, request.binding,
                                      str(task.payload.get("activation", "")),
                                      allow_failure=all(r.allow_failure for r in runs),
                                      queue=task.queue)
        self.bindings.done(requests)
        if any(r.synchronization for r in requests):
            return   # values changed during Synchronization never trigger reruns (as upstream)
        if runtime is not None:
            if changed:
                self._requeue(runtime.name)
        elif self._state.global_.dynamic_enabled != enabled_before:
            self._request(Request(full=True, restart=True))   # the enabled set may change
        elif changed:
            self._request(Request(full=True))

    def _hook(self, ref: HookRef) -> tuple[HookSpec | None, ModuleRuntime | None]:
        if ref.module is None:
            specs, runtime = self._state.global_.hooks, None
        else:
            runtime = self._state.module(ref.module)
            specs = runtime.hooks or []
        return next((s for s in specs if s.name == ref.name), None), runtime

    def _absorb(self, task: Task, head: RunRequest, spec: HookSpec) -> list[RunRequest]:
        """Take the same hook's requests queued right behind `task` (combined into its run);
        a merged task behind it joins (or not) as its first request decides, with all of them."""
        behind: list[Task] = []
        for pending in self._queues.pending(task.queue):
            if pending.type not in HOOK_TASKS:
                break
            behind.append(pending)
        count = absorbable(head, [t.payload["request"] for t in behind],
                           version=spec.config.version)
        taken = {t.id for t in behind[:count]}
        self._queues.remove(lambda t: t.id in taken)
        return [r for t in behind[:count] for r in requests_of(t)]


def hook_run_task(request: RunRequest) -> Task:
    """The hook-run task of `request`, keyed by its hook (`module:hook` for module hooks)."""
    ref = request.hook
    kind = TaskType.MODULE_HOOK_RUN if ref.module else TaskType.GLOBAL_HOOK_RUN
    return Task(kind, key=_key(ref), queue=request.queue, module=ref.module or "",
                payload={"request": request, "activation": request.binding})


def requests_of(task: Task) -> list[RunRequest]:
    """The requests a hook-run task carries, in order (more than one after compaction)."""
    return [task.payload["request"], *task.payload.get("merged", ())]


def merge_runs(first: Task, rest: list[Task]) -> Task:
    """`TaskQueues`' compaction merge: `first` carrying the requests of all the tasks, in order
    (their group compaction happens when the contexts are read, `HookBindings.contexts`)."""
    requests = [r for t in (first, *rest) for r in requests_of(t)]
    return replace(first, payload={**first.payload, "merged": tuple(requests[1:])})


def _key(ref: HookRef) -> str:
    """The task key: the hook name, prefixed with its module (hook names repeat across modules)."""
    return f"{ref.module}:{ref.name}" if ref.module else ref.name


def _synchronization_of(task: Task, module: str) -> bool:
    """Whether `task` carries a Synchronization of `module` (merged ones included)."""
    return (task.type is TaskType.MODULE_HOOK_RUN and task.module == module
            and isinstance(task.payload.get("request"), RunRequest)
            and any(r.synchronization for r in requests_of(task)))


def _binding_problems(hooks: Iterable[HookState]) -> str:
    """The bindings of these hooks that cannot be set up now, as one line ("" when none)."""
    return "; ".join(f"{hook.name}: {hook.status_message()}"
                     for hook in hooks if hook.binding_problems)
