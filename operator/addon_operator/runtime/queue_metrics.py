"""The queue's metrics: the `QueueObserver` that `app.Operator` hands to `TaskQueues`.

The queue stays free of metrics; it calls this observer, which records upstream's
`tasks_queue_action_duration_seconds{queue_name,queue_action}` (one observation per queue
operation) and `task_wait_in_queue_seconds_total{module,hook,binding,queue}` (seconds a task
waited, ready, before a worker took it) with upstream's labels (addon-operator's
`UpdateWaitInQueueMetric`; docs/operations.md, "Metrics"): `binding` is the task type, or the
binding name for hook runs; `hook` is the hook of global hook tasks and of module hook runs;
`module` is the module of module runs, deletes and hook runs; the others are "".
"""

from __future__ import annotations

from addon_operator.bindings import RunRequest
from addon_operator.metrics import OperatorMetrics
from addon_operator.queue import Task, TaskType

_MODULE_TASKS = frozenset({TaskType.MODULE_RUN, TaskType.MODULE_DELETE, TaskType.MODULE_HOOK_RUN})
_HOOK_RUNS = frozenset({TaskType.GLOBAL_HOOK_RUN, TaskType.MODULE_HOOK_RUN})


class QueueMetrics:
    """Records what `TaskQueues` reports into `OperatorMetrics`."""

    def __init__(self, metrics: OperatorMetrics) -> None:
        self._metrics = metrics

    def action(self, queue: str, action: str, seconds: float) -> None:
        self._metrics.tasks_queue_action_duration_seconds.labels(
            queue_name=queue, queue_action=action).observe(max(seconds, 0.0))

    def waited(self, task: Task, seconds: float) -> None:
        self._metrics.task_wait_in_queue_seconds_total.labels(**wait_labels(task)).inc(
            max(seconds, 0.0))


def wait_labels(task: Task) -> dict[str, str]:
    """The `task_wait_in_queue_seconds_total` labels of `task` (see the module docstring)."""
    labels = {"module": "", "hook": "", "binding": task.type.value, "queue": task.queue}
    if task.type in _HOOK_RUNS:
        labels["hook"] = task.key
    if task.type in _MODULE_TASKS:
        labels["module"] = task.module or task.key
    request = task.payload.get("request")
    if task.type in _HOOK_RUNS and isinstance(request, RunRequest):
        # The hook's own name, as in the hook-run metrics (a module hook run's key is
        # `module:hook`).
        labels["hook"], labels["binding"] = request.hook.name, request.binding
    return labels
