"""Queue metrics: `task_wait_in_queue_seconds_total` with upstream's labels per task type and
`tasks_queue_action_duration_seconds` per queue operation, recorded from a real queue."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from addon_operator.bindings import HookRef, RunRequest
from addon_operator.hooks.contexts import SCHEDULE, BindingContext
from addon_operator.metrics import OperatorMetrics
from addon_operator.queue import Task, TaskQueues, TaskType
from addon_operator.runtime.binding_runs import hook_run_task
from addon_operator.runtime.queue_metrics import QueueMetrics, wait_labels


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def hook_run(hook: HookRef, binding: str, queue: str = "main") -> Task:
    """A hook-run task as the bindings queue it (a module hook's key names its module too)."""
    return hook_run_task(RunRequest(hook, binding, queue, BindingContext(binding, SCHEDULE)))


@pytest.mark.parametrize("task,labels", [
    (hook_run(HookRef("hooks/pods.sh", "demo"), "pods", "fast"),
     {"module": "demo", "hook": "hooks/pods.sh", "binding": "pods", "queue": "fast"}),
    (hook_run(HookRef("tick.sh"), "every-minute"),
     {"module": "", "hook": "tick.sh", "binding": "every-minute", "queue": "main"}),
    (Task(TaskType.MODULE_RUN, key="demo"),
     {"module": "demo", "hook": "", "binding": "ModuleRun", "queue": "main"}),
    (Task(TaskType.MODULE_DELETE, key="old"),
     {"module": "old", "hook": "", "binding": "ModuleDelete", "queue": "main"}),
    (Task(TaskType.CONVERGE),
     {"module": "", "hook": "", "binding": "ConvergeModules", "queue": "main"}),
])
def test_wait_labels_follow_upstream(task: Task, labels: dict[str, str]) -> None:
    assert wait_labels(task) == labels


def test_waits_add_up_per_label_set_and_actions_are_observed() -> None:
    clock, registry = Clock(), CollectorRegistry()
    queues = TaskQueues(clock=clock, observer=QueueMetrics(OperatorMetrics(registry)))
    for _ in range(2):
        queues.put(Task(TaskType.MODULE_RUN, key="demo"))
        clock.now += 1.5
        queues.done(queues.next_ready())
    wait = registry.get_sample_value(
        "addon_operator_task_wait_in_queue_seconds_total",
        {"module": "demo", "hook": "", "binding": "ModuleRun", "queue": "main"})
    assert wait == 3.0
    for action in ("AddLast", "GetFirst", "RemoveFirst"):
        assert registry.get_sample_value(
            "addon_operator_tasks_queue_action_duration_seconds_count",
            {"queue_name": "main", "queue_action": action}) == 2, action
    assert registry.get_sample_value(
        "addon_operator_tasks_queue_action_duration_seconds_bucket",
        {"queue_name": "main", "queue_action": "AddLast", "le": "0.0001"}) == 2, \
        "upstream's sub-millisecond buckets"
