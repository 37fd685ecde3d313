"""The task queue: FIFO order, coalescing, backoff and failure isolation, with a fake clock."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from addon_operator.queue import (
    COMPACTION_THRESHOLD,
    MAIN,
    QueueSettings,
    Task,
    TaskQueues,
    TaskType,
    backoff_delay,
)


class FakeClock:
    """A monotonic clock that only moves when told; its `wait` advances time instead of
    blocking, which is what a condition wait with a timeout looks like from the queue."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, _cond: threading.Condition, timeout: float) -> None:
        self.waits.append(timeout)
        self.now += timeout


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queues(clock: FakeClock) -> TaskQueues:
    return TaskQueues(QueueSettings(initial_delay=5, max_delay=60, stall_after=3),
                      clock=clock, wait=clock.wait)


def run(key: str, queue: str = MAIN) -> Task:
    return Task(TaskType.MODULE_RUN, key, queue=queue)


def take(queues: TaskQueues, queue: str = MAIN) -> Task:
    task = queues.next_ready(queue)
    assert task is not None, f"a ready task in {queue!r}"
    return task


def test_fifo_with_head_insertion_and_named_queues(queues: TaskQueues) -> None:
    a, b, c = run("a"), run("b"), Task(TaskType.GLOBAL_HOOK_RUN, "hook-1")
    assert queues.put(a) and queues.put(b)
    assert queues.put(c, head=True)
    assert queues.pending() == [c, a, b]
    hook = Task(TaskType.MODULE_HOOK_RUN, "m/hooks/x", queue="slow", module="m")
    queues.put(hook)
    assert queues.pending("slow") == [hook]
    assert queues.lengths() == {MAIN: 3, "slow": 1}
    assert [queues.next_ready() for _ in range(3)] == [c, a, b]
    assert queues.next_ready() is None
    assert queues.next_ready("slow") == hook


def test_length_counts_the_running_task_and_ensure_creates_empty_queues(
    queues: TaskQueues,
) -> None:
    queues.ensure("named")
    queues.put(run("a"))
    queues.put(run("b"))
    task = queues.next_ready()
    assert queues.length() == 2 and queues.pending() == [run("b")]
    assert queues.lengths() == {MAIN: 2, "named": 0}
    assert task is not None
    queues.done(task)
    assert queues.length() == 1


def test_busy_sees_running_and_waiting_tasks_of_a_subject_in_every_queue(
    queues: TaskQueues,
) -> None:
    queues.put(run("a"))
    queues.put(Task(TaskType.MODULE_HOOK_RUN, "b:hooks/h.sh", queue="named", module="b"))
    assert queues.busy("a") and queues.busy("b") and not queues.busy("c")
    task = queues.next_ready()
    assert task is not None and queues.busy("a"), "running"
    queues.done(task)
    assert not queues.busy("a")
    queues.put(Task(TaskType.CONVERGE))
    assert queues.busy(TaskType.CONVERGE.value)


def test_pending_module_run_is_coalesced_but_a_running_one_is_not(queues: TaskQueues) -> None:
    assert queues.put(run("a"))
    assert not queues.put(run("a"))
    assert len(queues.pending()) == 1
    head = queues.next_ready()
    assert head is not None and queues.running("a")
    assert queues.put(run("a")), "the running head does not count as pending"
    assert not queues.put(run("a", queue="parallel_queue_0")), "pending anywhere counts"


def test_module_runs_of_the_same_module_never_run_at_once(queues: TaskQueues) -> None:
    first = run("a")
    queues.put(first)
    queues.next_ready()
    second, other = run("a"), run("b")
    queues.put(second)
    queues.put(other)
    hook = Task(TaskType.MODULE_HOOK_RUN, "a/hooks/h", module="a")
    queues.put(hook, head=True)
    assert queues.next_ready() == other, "module a's tasks wait while module a runs"
    assert queues.next_ready() is None
    queues.done(first)
    assert queues.next_ready() == hook
    assert queues.next_ready() is None
    queues.done(hook)
    assert queues.next_ready() == second


def test_converge_collapses_adjacent_duplicates(queues: TaskQueues) -> None:
    converge = Task(TaskType.CONVERGE)
    assert queues.put(converge)
    assert not queues.put(Task(TaskType.CONVERGE))
    assert queues.put(run("a"))
    assert queues.put(Task(TaskType.CONVERGE)), "not adjacent: kept"
    assert not queues.put(Task(TaskType.CONVERGE, queue=MAIN), head=True)
    assert [t.type for t in queues.pending()] == [
        TaskType.CONVERGE, TaskType.MODULE_RUN, TaskType.CONVERGE]


def test_taking_a_converge_drops_the_converges_right_behind_it(queues: TaskQueues) -> None:
    converge = Task(TaskType.CONVERGE)
    queues.put(converge)
    queues.put(run("a"))
    queues.put(Task(TaskType.CONVERGE))
    queues.remove(lambda t: t.type is TaskType.MODULE_RUN)
    assert queues.next_ready() == converge
    assert queues.pending() == []


def test_backoff_doubles_from_five_seconds_to_the_cap() -> None:
    settings = QueueSettings(initial_delay=5, max_delay=300)
    assert [backoff_delay(n, settings) for n in range(1, 9)] == [
        5, 10, 20, 40, 80, 160, 300, 300]
    assert backoff_delay(10_000, settings) == 300


def test_a_failed_task_does_not_block_its_queue(queues: TaskQueues, clock: FakeClock) -> None:
    failing, other = run("bad"), run("good")
    queues.put(failing)
    queues.put(other)
    assert queues.next_ready() == failing
    assert queues.failed(failing) == 5
    assert queues.pending() == [failing, other], "back at the head, delayed"
    assert queues.next_ready() == other
    queues.done(other)
    assert queues.next_ready() is None
    clock.now += 5
    assert queues.next_ready() == failing


def test_failures_count_until_stalled_and_success_resets(
    queues: TaskQueues, clock: FakeClock
) -> None:
    task = run("bad")
    queues.put(task)
    delays = []
    for _ in range(5):
        taken = queues.next_ready()
        assert taken == task
        delays.append(queues.failed(task))
        clock.now += 60
    assert delays == [5, 10, 20, 40, 60], "still retried at the cap"
    assert queues.failures("bad") == 5
    assert queues.next_ready() == task
    queues.done(task)
    assert queues.failures("bad") == 0


class Heard:
    """A `QueueObserver` keeping what it hears."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, str, float]] = []
        self.waits: list[tuple[str, float]] = []

    def action(self, queue: str, action: str, seconds: float) -> None:
        self.actions.append((queue, action, seconds))

    def waited(self, task: Task, seconds: float) -> None:
        self.waits.append((task.key, seconds))


def test_observer_hears_ready_waits_and_each_operation(clock: FakeClock) -> None:
    heard = Heard()
    queues = TaskQueues(QueueSettings(initial_delay=5), clock=clock, wait=clock.wait,
                        observer=heard)
    task = run("a")
    queues.put(task)
    queues.put(Task(TaskType.GLOBAL_HOOK_RUN, "h", queue="hooks"), head=True)
    clock.now += 7
    queues.failed(take(queues))   # due again in 5 s
    clock.now += 5 + 2
    queues.done(take(queues))
    assert heard.waits == [("a", 7), ("a", 2)], "waiting out the backoff is not waiting"
    assert heard.actions == [
        ("main", "AddLast", 0), ("hooks", "AddFirst", 0), ("main", "GetFirst", 0),
        ("main", "Requeue", 0), ("main", "GetFirst", 0), ("main", "RemoveFirst", 0)]
    queues.put(run("b"))
    queues.failed(take(queues))
    clock.now += 1
    assert not queues.put(run("b")), "coalesced: the backed-off twin is ready from now"
    clock.now += 3
    take(queues)
    assert heard.waits[-1] == ("b", 3)


def test_new_module_run_wakes_a_backed_off_one(queues: TaskQueues, clock: FakeClock) -> None:
    task = run("m")
    queues.put(task)
    queues.failed(take(queues))
    assert queues.next_ready() is None
    assert not queues.put(run("m")), "coalesced into the backed-off task"
    assert queues.next_ready() == task, "the changed input is tried now, not after the backoff"
    assert queues.failures("m") == 1, "the failure count is kept until a success"


def test_module_delete_cancels_pending_and_backed_off_work(queues: TaskQueues) -> None:
    queues.put(run("m"))
    queues.failed(take(queues))
    queues.put(Task(TaskType.MODULE_HOOK_RUN, "m/hooks/h", queue="q", module="m"))
    queues.put(run("other"))
    delete = Task(TaskType.MODULE_DELETE, "m")
    assert queues.put(delete)
    assert queues.pending() == [run("other"), delete]
    assert queues.pending("q") == []
    assert queues.next_ready() == run("other")
    assert queues.next_ready() == delete, "no backoff in the way of disabling"
    queues.done(delete)
    assert queues.failures("m") == 0


def test_module_delete_stops_a_running_run_from_being_retried(queues: TaskQueues) -> None:
    queues.put(run("m"))
    running = queues.next_ready()
    assert running is not None
    queues.put(Task(TaskType.MODULE_DELETE, "m"))
    assert queues.failed(running) is None
    assert [t.type for t in queues.pending()] == [TaskType.MODULE_DELETE]


def test_disable_then_enable_then_disable_leaves_one_delete(queues: TaskQueues) -> None:
    queues.put(Task(TaskType.MODULE_DELETE, "m"))
    queues.put(run("m"))
    assert not queues.put(Task(TaskType.MODULE_DELETE, "m"))
    assert [t.type for t in queues.pending()] == [TaskType.MODULE_DELETE]


def test_done_of_a_task_that_is_not_running_names_it(queues: TaskQueues) -> None:
    with pytest.raises(ValueError, match=r"ModuleRun 'ghost'.*not running"):
        queues.done(run("ghost"))


def test_get_waits_for_the_backoff_by_the_injected_clock(
    queues: TaskQueues, clock: FakeClock
) -> None:
    queues.put(run("m"))
    queues.failed(take(queues))
    started = clock.now
    assert queues.get(timeout=2) is None
    assert clock.now == started + 2
    assert queues.get(timeout=30) == run("m")
    assert clock.now == started + 5, "woke exactly when the task became due"


def test_get_returns_a_task_put_by_another_thread() -> None:
    queues = TaskQueues()
    got: list[Task | None] = []
    worker = threading.Thread(target=lambda: got.append(queues.get(timeout=10)))
    worker.start()
    queues.put(run("m"))
    worker.join(5)
    assert got == [run("m")]


def test_close_wakes_waiting_workers_and_refuses_new_tasks() -> None:
    queues = TaskQueues()
    got: list[Task | None] = [run("sentinel")]
    worker = threading.Thread(target=lambda: got.__setitem__(0, queues.get()))
    worker.start()
    queues.close()
    worker.join(5)
    assert not worker.is_alive() and got == [None]
    assert not queues.put(run("m"))


def test_a_waiting_worker_wakes_when_a_backed_off_run_is_made_ready() -> None:
    queues = TaskQueues(QueueSettings(initial_delay=300))
    queues.put(run("m"))
    queues.failed(take(queues))
    got: list[Task | None] = []
    worker = threading.Thread(target=lambda: got.append(queues.get(timeout=20)))
    worker.start()
    assert not queues.put(run("m"))
    worker.join(5)
    assert got == [run("m")]


def hook_run(key: str, n: int) -> Task:
    return Task(TaskType.MODULE_HOOK_RUN, key, queue="q", module="m", payload={"ns": (n,)})


def merge(first: Task, rest: list[Task]) -> Task:
    """What the runtime's merge does, on a simpler payload: all the numbers, in order."""
    return replace(first, payload={"ns": tuple(n for t in (first, *rest) for n in t.payload["ns"])})


def keys_and_counts(queues: TaskQueues) -> list[tuple[str, int]]:
    return [(t.key, len(t.payload["ns"])) for t in queues.pending("q")]


def test_a_hook_flooding_a_long_queue_is_compacted_into_its_first_task(clock: FakeClock) -> None:
    queues = TaskQueues(clock=clock, wait=clock.wait, merge=merge)
    limit = COMPACTION_THRESHOLD
    for n in range(limit - 1):
        queues.put(hook_run("m:h", n))
        queues.put(hook_run("m:g", n))
    assert len(queues.pending("q")) == 2 * (limit - 1), "no hook has 100 runs queued yet"
    first_h = queues.pending("q")[0]
    queues.put(hook_run("m:h", limit - 1))
    merged = queues.pending("q")[0]
    assert merged.id == first_h.id and merged.payload["ns"] == tuple(range(limit))
    assert keys_and_counts(queues) == [("m:h", limit)] + [("m:g", 1)] * (limit - 1), \
        "the other hook's runs keep their place and order"
    queues.put(hook_run("m:g", limit - 1))
    assert keys_and_counts(queues) == [("m:h", limit), ("m:g", limit)]
    queues.put(hook_run("m:h", limit))
    assert keys_and_counts(queues) == [("m:h", limit), ("m:g", limit), ("m:h", 1)], \
        "a short queue again: no compaction"


def test_a_running_run_is_not_merged_and_a_short_queue_is_not_compacted(
        clock: FakeClock) -> None:
    queues = TaskQueues(clock=clock, wait=clock.wait, merge=merge)
    for n in range(COMPACTION_THRESHOLD):
        queues.put(hook_run("m:h", n))
    assert len(queues.pending("q")) == COMPACTION_THRESHOLD, "not more than 100 tasks"
    running = take(queues, "q")
    queues.put(hook_run("m:h", 100))
    queues.put(hook_run("m:h", 101))
    assert keys_and_counts(queues) == [("m:h", 101)]
    assert queues.pending("q")[0].payload["ns"] == tuple(range(1, 102))
    queues.done(running)


def test_without_a_merge_nothing_is_compacted(queues: TaskQueues) -> None:
    for n in range(3 * COMPACTION_THRESHOLD):
        queues.put(hook_run("m:h", n))
    assert len(queues.pending("q")) == 3 * COMPACTION_THRESHOLD


def test_compaction_never_mixes_global_and_module_hook_runs(clock: FakeClock) -> None:
    """A global hook named like a module hook's key (`m:h`) is another hook."""
    queues = TaskQueues(clock=clock, wait=clock.wait, merge=merge)
    for n in range(COMPACTION_THRESHOLD):
        queues.put(hook_run("m:h", n))
        queues.put(Task(TaskType.GLOBAL_HOOK_RUN, "m:h", queue="q", payload={"ns": (n,)}))
    merged = [t for t in queues.pending("q") if len(t.payload["ns"]) > 1]
    assert [(t.type, t.payload["ns"]) for t in merged] == [
        (TaskType.MODULE_HOOK_RUN, tuple(range(COMPACTION_THRESHOLD))),
        (TaskType.GLOBAL_HOOK_RUN, tuple(range(COMPACTION_THRESHOLD)))], merged


def test_a_hooks_later_runs_wait_for_its_failed_run_to_be_retried(
    queues: TaskQueues, clock: FakeClock
) -> None:
    """Binding contexts arrive in order after a failure: while a hook's failed run waits out
    its backoff, the runs queued behind it (later events of the same hook) wait too; other
    hooks and modules go on."""
    def hook_run(hook: str, event: int) -> Task:
        return Task(TaskType.MODULE_HOOK_RUN, f"m:{hook}", module="m",
                    payload={"event": event})

    first = hook_run("pods", 1)
    queues.put(first)
    assert take(queues) == first
    assert queues.failed(first) == 5
    later, other = hook_run("pods", 2), Task(TaskType.MODULE_RUN, "n")
    queues.put(later)
    queues.put(other)
    assert queues.next_ready() == other, "other work goes on during the backoff"
    queues.done(other)
    assert queues.next_ready() is None, "event 2 of the hook must not overtake event 1"
    clock.now += 5
    assert take(queues) == first, "the retry comes first"
    queues.done(first)
    assert take(queues) == later
