"""Workers report outcomes to the queue; `Attempts.wait` ends when every task had an attempt
or is no longer queued."""

from __future__ import annotations

import threading

from addon_operator.httpserver import Heartbeats
from addon_operator.queue import QueueSettings, Task, TaskQueues, TaskType
from addon_operator.runtime.errors import RunFailed
from addon_operator.runtime.worker import Attempts, Workers, join_all


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def workers(handle, queues: TaskQueues, outcomes: list) -> Workers:
    return Workers(queues, handle, lambda task, error: outcomes.append((task.key, error)),
                   count=1, attempts=Attempts(), stop=threading.Event())


def test_failure_goes_back_with_backoff_and_success_resets() -> None:
    clock = Clock()
    queues = TaskQueues(QueueSettings(initial_delay=5, max_delay=60, stall_after=2), clock=clock)
    outcomes: list = []
    results = iter([RunFailed("HookFailed", "boom"), None])

    def handle(task: Task) -> None:
        error = next(results)
        if error:
            raise error

    pool = workers(handle, queues, outcomes)
    queues.put(Task(TaskType.MODULE_RUN, key="a"))
    pool.run_one(queues.next_ready())
    assert outcomes[-1][1].reason == "HookFailed" and queues.failures("a") == 1
    assert queues.next_ready() is None, "backing off"
    clock.now += 5
    pool.run_one(queues.next_ready())
    assert outcomes[-1] == ("a", None) and queues.failures("a") == 0


def test_a_crashing_handler_becomes_a_failure() -> None:
    queues, outcomes = TaskQueues(), []
    pool = workers(lambda task: 1 / 0, queues, outcomes)
    queues.put(Task(TaskType.MODULE_RUN, key="a"))
    pool.run_one(queues.next_ready())
    assert outcomes[0][1].reason == "InternalError"
    assert "ZeroDivisionError" in outcomes[0][1].message


def test_attempts_wait_ends_on_attempt_or_cancellation() -> None:
    queues, attempts, stop = TaskQueues(), Attempts(), threading.Event()
    run_a, run_b = Task(TaskType.MODULE_RUN, key="a"), Task(TaskType.MODULE_RUN, key="b")
    seen = [(run_a, attempts.count(run_a)), (run_b, attempts.count(run_b))]
    queues.put(run_a)
    queues.put(run_b)
    queues.put(Task(TaskType.MODULE_DELETE, key="b"))   # cancels b's pending run
    taken = queues.next_ready()
    queues.done(taken)
    attempts.record(taken)
    waiter = threading.Thread(target=attempts.wait, args=(seen, queues, stop))
    waiter.start()
    waiter.join(5)
    assert not waiter.is_alive()


def test_a_failing_outcome_report_keeps_the_worker_and_the_other_reports() -> None:
    queues, attempts = TaskQueues(), Attempts()

    def finished(task: Task, error: RunFailed | None) -> None:
        raise RuntimeError("status builder bug")

    pool = Workers(queues, lambda task: None, finished, count=1, attempts=attempts,
                   stop=threading.Event())
    task = Task(TaskType.MODULE_RUN, key="a")
    queues.put(task)
    pool.run_one(queues.next_ready())   # must not raise
    assert attempts.count(task) == 1
    assert not queues.running("a") and queues.pending() == []


def test_the_outcome_is_recorded_before_the_attempt_counts() -> None:
    """A converge waiting for the attempt goes on only once the status is recorded."""
    queues, attempts = TaskQueues(), Attempts()
    counted_when_finished: list[int] = []
    pool = Workers(queues, lambda task: None,
                   lambda task, error: counted_when_finished.append(attempts.count(task)),
                   count=1, attempts=attempts, stop=threading.Event())
    task = Task(TaskType.MODULE_RUN, key="a")
    queues.put(task)
    pool.run_one(queues.next_ready())
    assert counted_when_finished == [0] and attempts.count(task) == 1


class FakeThread:
    def __init__(self, clock: Clock, joins: list[float]) -> None:
        self._clock, self._joins = clock, joins

    def join(self, timeout: float | None = None) -> None:
        self._joins.append(timeout)
        self._clock.now += timeout   # never ends: waits the whole timeout


def test_join_all_shares_one_deadline() -> None:
    clock, joins = Clock(), []
    join_all([FakeThread(clock, joins) for _ in range(3)], 30, clock=clock)
    assert joins == [30, 0, 0] and clock.now == 130


class BrokenQueues(TaskQueues):
    def get(self, queue: str = "main", timeout: float | None = None) -> Task | None:
        raise RuntimeError("queue bug")


def test_a_dead_worker_thread_fails_liveness_a_stopped_one_does_not() -> None:
    heartbeats = Heartbeats(60)
    crashed = Workers(BrokenQueues(), lambda task: None, lambda task, error: None, count=1,
                      attempts=Attempts(), stop=threading.Event(), queue="crashing",
                      heartbeats=heartbeats)
    stop = threading.Event()
    stopped = Workers(TaskQueues(), lambda task: None, lambda task, error: None, count=1,
                      attempts=Attempts(), stop=stop, heartbeats=heartbeats)
    crashed.start()
    stopped.start()
    crashed.join(5)
    assert heartbeats.stale() == ["worker-crashing-0 (ended)"]
    stop.set()
    stopped.join(5)
    assert heartbeats.stale() == ["worker-crashing-0 (ended)"]
