"""Converge restart (as upstream; `runtime/converge.py`): a full request stored while a converge
runs stops it at the next safe point; it drops only its own runs that did not start, skips
`afterAll`, and the fresh converge (with the old request merged in) runs first. A targeted
request restarts nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import pytest
from prometheus_client import CollectorRegistry

from addon_operator.metrics import OperatorMetrics
from addon_operator.queue import Task, TaskQueues, TaskType
from addon_operator.runtime.converge import Converger
from addon_operator.runtime.dispatch import AFTER_HELM_CHANGED, TaskHandlers
from addon_operator.runtime.state import Request, RuntimeState
from addon_operator.runtime.status_writer import StatusWriter
from addon_operator.runtime.worker import Attempts, Flag

from runtime_fakes import FakeKube, converger

During = Callable[[list[Task]], None]


class Scripted(Attempts):
    """The real wait for a group's first attempts, with what happens meanwhile scripted: one
    step per wait, in order (`attempt` plays a worker running the whole group)."""

    def __init__(self, queues: TaskQueues) -> None:
        super().__init__()
        self.queues = queues
        self.steps: list[During] = []
        self.groups: list[list[str]] = []

    def attempt(self, waiting: list[Task]) -> None:
        ids = {t.id for t in waiting}
        for task in self.queues.remove(lambda t: t.id in ids):
            self.record(task)

    def wait(self, tasks: Iterable[tuple[Task, int]], queues: TaskQueues, stop: Flag) -> None:
        seen = list(tasks)
        self.groups.append([t.key for t, _ in seen])
        self.steps.pop(0)([t for t, _ in seen])
        if any(self.count(t) <= n for t, n in seen):
            assert stop.is_set(), "no worker here: only the converge's flag can end this wait"
        super().wait(seen, queues, stop)


@pytest.fixture
def parts(modules_root, tmp_path, kube: FakeKube, monkeypatch
          ) -> tuple[RuntimeState, Converger, TaskQueues, Scripted, TaskHandlers, list[str]]:
    """Modules a (10), b and c (20), d (30), all enabled; the global lifecycle hooks run are
    recorded as `binding/activation`."""
    queues = TaskQueues()
    attempts = Scripted(queues)
    state, conv = converger(modules_root, tmp_path, kube, queues=queues, attempts=attempts)
    for runtime in state.known():
        runtime.spec_enabled = True
    handlers = TaskHandlers(state, queues, StatusWriter(kube, state),
                            OperatorMetrics(CollectorRegistry()))
    ran: list[str] = []
    monkeypatch.setattr(conv._hooks, "run_global",
                        lambda binding, activation: ran.append(f"{binding}/{activation}"))
    return state, conv, queues, attempts, handlers, ran


def pending(queues: TaskQueues) -> list[tuple[TaskType, str]]:
    return [(t.type, t.key) for t in queues.pending()]


def test_a_full_request_while_a_group_waits_restarts_the_converge(parts, caplog) -> None:
    state, conv, queues, attempts, handlers, ran = parts
    attempts.steps = [lambda waiting: handlers.request(Request(full=True, restart=True))]
    state.request(Request(full=True, startup=True))
    with caplog.at_level(logging.INFO, logger="addon_operator.runtime.converge"):
        conv.converge()
    assert attempts.groups == [["a"]], "the later groups are not queued"
    assert pending(queues) == [(TaskType.CONVERGE, "")], "a's run dropped, one fresh converge"
    assert ran == ["onStartup/OperatorStartup", "beforeAll/OperatorStartup"], "no afterAll"
    assert not state.global_.status.converged
    assert "1 queued module runs dropped: a" in caplog.text

    converge = queues.next_ready()
    attempts.steps = [attempts.attempt] * 3
    conv.converge()
    queues.done(converge)
    assert attempts.groups == [["a"], ["a"], ["b", "c"], ["d"]], "every group once more, in order"
    assert ran[2:] == ["beforeAll/OperatorStartup", "afterAll/OperatorStartup"], \
        "the start-up request was merged in (onStartup does not run twice)"
    assert state.global_.status.converged
    assert pending(queues) == [(TaskType.DISCOVER_RELEASES, "")]
    assert not state.take_request()


def test_a_restart_drops_only_this_converges_runs_that_did_not_start(parts) -> None:
    state, conv, queues, attempts, handlers, ran = parts
    queues.put(Task(TaskType.MODULE_HOOK_RUN, "c:hooks/h.sh", module="c"))
    assert queues.next_ready() is not None, "a hook run of c is running"
    handlers.requeue("c")   # its values changed: c runs once more after it

    def start_b_then_change_global_config(waiting: list[Task]) -> None:
        started = queues.next_ready()
        assert started is not None and started.key == "b"
        handlers.request(Request(full=True, restart=True))

    attempts.steps = [attempts.attempt, start_b_then_change_global_config]
    state.request(Request(full=True))
    conv.converge()
    assert attempts.groups == [["a"], ["b", "c"]]
    assert queues.running("b"), "a run that started finishes normally"
    assert pending(queues) == [(TaskType.CONVERGE, ""), (TaskType.MODULE_RUN, "c")], \
        "the fresh converge goes first; the requeue c's converge run was coalesced into stays"
    assert queues.pending()[1].payload["activation"] == AFTER_HELM_CHANGED
    assert ran == ["beforeAll/GlobalConfigChanged"]


def test_the_fresh_converge_waits_for_a_delete_the_restarted_one_queued(parts) -> None:
    """a is disabled: its delete is queued, then a restart comes before it ran. The fresh
    converge (a was recorded disabled) still waits for that delete before the next groups,
    and a stays Reconciling until it is done, instead of showing `Disabled` at once."""
    state, conv, queues, attempts, handlers, _ = parts
    for runtime in state.known():
        runtime.status.enabled = True   # all ran before
    state.modules["a"].spec_enabled = False
    attempts.steps = [lambda waiting: handlers.request(Request(full=True, restart=True))]
    state.request(Request(full=True))
    conv.converge()
    assert attempts.groups == [["a"]], "the wait for a's delete"
    assert pending(queues) == [(TaskType.CONVERGE, ""), (TaskType.MODULE_DELETE, "a")]
    assert state.modules["a"].status.enabled is False

    converge = queues.next_ready()
    waits_seen: list[tuple[int, bool]] = []

    def delete_a(waiting: list[Task]) -> None:
        deletes = queues.remove(lambda t: t.type is TaskType.MODULE_DELETE)
        waits_seen.append((len(deletes), state.modules["a"].status.reconciling))
        for task in deletes:
            attempts.record(task)   # a worker runs the delete the restarted converge queued

    attempts.steps = [delete_a, attempts.attempt, attempts.attempt]
    conv.converge()
    queues.done(converge)
    assert attempts.groups[1:] == [["a"], ["b", "c"], ["d"]], \
        "the pending delete first, then the groups"
    assert waits_seen == [(1, True)], \
        "one delete (the new task coalesced with it); a Reconciling while it is pending"


def test_a_targeted_request_does_not_restart_the_converge(parts) -> None:
    state, conv, queues, attempts, handlers, ran = parts

    def module_b_changed(waiting: list[Task]) -> None:
        handlers.request(Request(modules=frozenset({"b"})))
        attempts.attempt(waiting)

    attempts.steps = [module_b_changed, attempts.attempt, attempts.attempt]
    state.request(Request(full=True))
    conv.converge()
    assert attempts.groups == [["a"], ["b", "c"], ["d"]]
    assert ran == ["beforeAll/GlobalConfigChanged", "afterAll/GlobalConfigChanged"]
    assert pending(queues) == [(TaskType.CONVERGE, ""), (TaskType.DISCOVER_RELEASES, "")]
    assert state.take_request() == Request(modules=frozenset({"b"})), "left for the next one"


def test_a_global_values_change_does_not_restart_the_converge(parts) -> None:
    """A global hook changing the global values queues another converge after this one (as
    upstream): restarting on every change could starve a converge."""
    state, conv, queues, attempts, handlers, ran = parts

    def values_changed(waiting: list[Task]) -> None:
        handlers.request(Request(full=True))
        attempts.attempt(waiting)

    attempts.steps = [values_changed, attempts.attempt, attempts.attempt]
    state.request(Request(full=True))
    conv.converge()
    assert attempts.groups == [["a"], ["b", "c"], ["d"]]
    assert ran == ["beforeAll/GlobalConfigChanged", "afterAll/GlobalConfigChanged"]
    assert state.take_request() == Request(full=True), "the next converge does the rest"


def test_a_full_request_after_a_group_restarts_before_the_next_one(parts) -> None:
    state, conv, queues, attempts, handlers, ran = parts

    def attempt_then_change_global_config(waiting: list[Task]) -> None:
        attempts.attempt(waiting)
        handlers.request(Request(full=True, restart=True))

    attempts.steps = [attempt_then_change_global_config]
    state.request(Request(full=True))
    conv.converge()
    assert attempts.groups == [["a"]]
    assert pending(queues) == [(TaskType.CONVERGE, "")]
    assert ran == ["beforeAll/GlobalConfigChanged"]
