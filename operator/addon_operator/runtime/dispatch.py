"""Task handling: which handler runs a task, and what its outcome does to the status.

The workers call `TaskHandlers.handle(task)` and then `finished(task, error)`; hook-run tasks
(kubernetes and schedule bindings) go to `BindingRuns`. `request()` is
how controllers and handlers ask for a converge: the request is stored in the state (so
coalesced `ConvergeModules` tasks lose nothing) and one converge task is queued.
"""

from __future__ import annotations

import logging

from addon_operator.metrics import OperatorMetrics
from addon_operator.queue import Task, TaskQueues, TaskType

from .binding_runs import BindingRuns
from .converge import Converger
from .errors import RunFailed
from .module_delete import ModuleDeleter
from .module_run import ModuleRunner
from .state import Request, RuntimeState
from .status_writer import StatusWriter

log = logging.getLogger(__name__)

AFTER_HELM_CHANGED = "AfterHelm-Hooks-Change-Values"
HEAL = "heal"   # ModuleRun payload: why the resource monitor wants the release upgraded


class TaskHandlers:
    """Runs converge, module-run and module-delete tasks; the components are set by `wire`."""

    def __init__(self, state: RuntimeState, queues: TaskQueues, writer: StatusWriter,
                 metrics: OperatorMetrics) -> None:
        self._state = state
        self._queues = queues
        self._writer = writer
        self._metrics = metrics
        self._converger: Converger | None = None
        self._runner: ModuleRunner | None = None
        self._deleter: ModuleDeleter | None = None
        self._bindings: BindingRuns | None = None

    def wire(self, converger: Converger, runner: ModuleRunner, deleter: ModuleDeleter,
             bindings: BindingRuns) -> None:
        self._converger, self._runner, self._deleter = converger, runner, deleter
        self._bindings = bindings

    def request(self, request: Request) -> None:
        """Ask for a converge (see `state.Request`)."""
        self._state.request(request)
        if request.full:
            self._state.global_.status.reconciling = True
        self._queues.put(Task(TaskType.CONVERGE))

    def requeue(self, module: str) -> None:
        """One more run of `module` (its `afterHelm` hooks changed its values)."""
        self._queues.put(Task(TaskType.MODULE_RUN, key=module,
                              payload={"activation": AFTER_HELM_CHANGED}))

    def heal(self, module: str, activation: str, why: str) -> bool:
        """A run of `module` that upgrades its release even if nothing changed (the resource
        monitor found it damaged: `why`); False when a pending run absorbed it."""
        return self._queues.put(Task(TaskType.MODULE_RUN, key=module,
                                     payload={"activation": activation, HEAL: why}))

    def handle(self, task: Task) -> None:
        if (self._converger is None or self._runner is None or self._deleter is None
                or self._bindings is None):
            raise RuntimeError("TaskHandlers.wire() must be called before tasks run")
        activation = str(task.payload.get("activation", ""))
        if task.type is TaskType.CONVERGE:
            self._converger.converge()
        elif task.type is TaskType.MODULE_RUN:
            self._runner.run(task.key, activation, heal=str(task.payload.get(HEAL, "")))
        elif task.type is TaskType.MODULE_DELETE:
            self._deleter.delete(task.key, activation, startup=bool(task.payload.get("startup")))
        elif task.type is TaskType.DISCOVER_RELEASES:
            self._deleter.purge_unknown()
        elif task.type in (TaskType.GLOBAL_HOOK_RUN, TaskType.MODULE_HOOK_RUN):
            self._bindings.run(task)
        else:
            raise RunFailed("UnsupportedTask", f"task type {task.type.value} is not handled")

    def finished(self, task: Task, error: RunFailed | None) -> None:
        """Record the outcome in the status and the metrics, then write what changed."""
        if task.type is TaskType.CONVERGE:
            self._converge_finished(task, error)
        elif task.type in (TaskType.MODULE_RUN, TaskType.MODULE_DELETE):
            self._module_finished(task, error)
        elif task.type is TaskType.MODULE_HOOK_RUN:
            self._writer.module(self._state.module(task.module))
        self._writer.global_config()
        self._metrics.set_queue_lengths(self._queues.lengths())

    def _converge_finished(self, task: Task, error: RunFailed | None) -> None:
        status = self._state.global_.status
        if error is not None:
            self._metrics.modules_discover_errors_total.inc()
        status.reconciling = any(t.type is TaskType.CONVERGE for t in self._queues.pending())
        status.last_error = error.failure if error is not None else None
        status.consecutive_failures = self._queues.failures(task.failure_key)

    def _module_finished(self, task: Task, error: RunFailed | None) -> None:
        runtime = self._state.module(task.key)
        status = runtime.status
        if error is not None:
            counter = (self._metrics.module_run_errors_total if task.type is TaskType.MODULE_RUN
                       else self._metrics.module_delete_errors_total)
            counter.labels(module=task.key).inc()
        status.reconciling = self._queues.running(task.key) or any(
            t.key == task.key and t.type.module_scoped for t in self._queues.pending())
        status.last_error = error.failure if error is not None else None
        status.consecutive_failures = self._queues.failures(task.failure_key)
        self._writer.module(runtime)
