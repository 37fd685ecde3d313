"""The shared task queue of the runtime: named FIFO queues, coalescing and failure isolation.

Upstream runs every module task through one `main` queue (plus named queues for hook bindings) and a
failing task stays at the head of its queue, blocking everything behind it. We keep the queues and
upstream's task vocabulary (`TaskType`) but isolate failures (docs/hooks.md, "Failures,
`allowFailure` and timeouts"): a failed task goes back to its queue with an exponential backoff
delay and the tasks behind it run meanwhile — except the later runs of the same hook, which wait for
it, so a hook always sees its binding contexts in the order they came; a per-key counter of
consecutive failures tells the status writer when a module is `Stalled`.

The runtime's workers call `get()` (or `next_ready()`), run the task and report `done()` or
`failed()`; controllers and the converge phase machine call `put()`. The queue is pure logic
behind one lock: the clock and the condition wait are injected, so tests never sleep. It never
runs two tasks of the same subject (module, hook) at once, whatever the number of workers.
An optional `QueueObserver` (the runtime's metrics) hears how long each queue operation took
and how long each task waited, ready, before a worker took it.

Compaction (as upstream's; docs/hooks.md, "`kubernetes` and `schedule` bindings"): when a queue
holds more than `COMPACTION_THRESHOLD` tasks and one hook has that many hook-run tasks pending in
it, they are all merged into the first of them by the injected `merge` (the runtime's
`binding_runs.merge_runs`, which joins their requests), so a flooding hook runs once with every
binding context instead of hundreds of times.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

log = logging.getLogger(__name__)

MAIN = "main"
COMPACTION_THRESHOLD = 100   # upstream's compactionThreshold

Clock = Callable[[], float]
Wait = Callable[[threading.Condition, float], None]
# merge(first, rest) -> the one task doing the work of all of them, in order, with first's id.
# Called with the queue's lock held: pure, quick, and must not call the queue.
Merge = Callable[["Task", "list[Task]"], "Task"]


class TaskType(str, Enum):
    """The closed set of task kinds (upstream's task type names).

    Left out on purpose: `ApplyKubeConfigValues` (config arrives through the CR controllers as
    converge and module-run tasks), `ModuleEnsureHooks` (conversion webhooks are not served),
    `ParallelModuleRun` (equal-weight runs are spread over workers by the runtime), the global
    `...EnableScheduleBindings` / `...EnableKubernetesBindings` / `...WaitKubernetesSynchronization`
    steps (the start-up converge does them inline), `ModuleEnsureCRDs` (part of a module run) and
    `ModulePurge` (`DiscoverHelmReleases` purges in one task, never retried, as upstream).
    """

    CONVERGE = "ConvergeModules"
    GLOBAL_HOOK_RUN = "GlobalHookRun"
    MODULE_RUN = "ModuleRun"
    MODULE_HOOK_RUN = "ModuleHookRun"
    MODULE_DELETE = "ModuleDelete"
    DISCOVER_RELEASES = "DiscoverHelmReleases"

    @property
    def module_scoped(self) -> bool:
        """Whether the task works on one module (and so must not overlap its other tasks)."""
        return self in _MODULE_SCOPED


_MODULE_SCOPED = frozenset({TaskType.MODULE_RUN, TaskType.MODULE_HOOK_RUN, TaskType.MODULE_DELETE})
# What a MODULE_DELETE makes pointless: work on a module that is being disabled.
_CANCELLED_BY_DELETE = frozenset({TaskType.MODULE_RUN, TaskType.MODULE_HOOK_RUN})
# What compaction merges: hook runs (their key names the hook).
_COMPACTABLE = frozenset({TaskType.GLOBAL_HOOK_RUN, TaskType.MODULE_HOOK_RUN})

_ids = itertools.count(1)


@dataclass(frozen=True)
class Task:
    """One unit of work. `key` is the module name (module tasks), the hook name (hook runs) or
    empty (converge, discovery); `module` names the owning module of a
    `MODULE_HOOK_RUN` (for the other module tasks it defaults to `key`)."""

    type: TaskType
    key: str = ""
    queue: str = MAIN
    payload: Mapping[str, Any] = field(default_factory=dict, compare=False)
    module: str = ""
    id: int = field(default_factory=lambda: next(_ids), compare=False)

    @property
    def subject(self) -> str:
        """What may not run twice at once: the module for module tasks, else the key or type."""
        if self.type.module_scoped:
            return self.module or self.key
        return self.key or self.type.value

    @property
    def failure_key(self) -> str:
        """The key consecutive failures are counted under (`failures()`, `stalled()`)."""
        return self.key or self.type.value


@dataclass(frozen=True)
class QueueSettings:
    """Retry policy of failed tasks: `initial_delay` doubling up to `max_delay`; a key is
    stalled after `stall_after` consecutive failures (and still retried at the cap)."""

    initial_delay: float = 5.0
    max_delay: float = 300.0
    stall_after: int = 5


def backoff_delay(failures: int, settings: QueueSettings) -> float:
    """Delay before retry number `failures` (1 = first failure): 5 s, 10 s, 20 s ... capped."""
    exponent = min(max(failures - 1, 0), 62)
    return min(settings.initial_delay * (2.0 ** exponent), settings.max_delay)


@dataclass
class _Entry:
    task: Task
    ready_at: float


def _condition_wait(condition: threading.Condition, timeout: float) -> None:
    condition.wait(timeout)


class QueueObserver(Protocol):
    """Hears about queue work (upstream's `tasks_queue_action_duration_seconds` and
    `task_wait_in_queue_seconds_total`). Called with the queue's lock held or just after it:
    must be quick and must not call the queue."""

    def action(self, queue: str, action: str, seconds: float) -> None:
        """One operation on `queue` took `seconds`, waiting for the lock included. Actions:
        `AddLast`/`AddFirst` (`put`), `GetFirst` (a worker takes a task), `RemoveFirst`
        (`done`), `Requeue` (`failed`)."""

    def waited(self, task: Task, seconds: float) -> None:
        """A worker takes `task`, which was ready for `seconds`: since it was queued, or since
        its backoff delay ended (the backoff itself is not waiting)."""


class TaskQueues:
    """All named queues of one operator process (thread-safe)."""

    def __init__(
        self,
        settings: QueueSettings = QueueSettings(),
        *,
        clock: Clock = time.monotonic,
        wait: Wait = _condition_wait,
        observer: QueueObserver | None = None,
        merge: Merge | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._wait = wait
        self._observer = observer
        self._merge = merge   # None: no compaction
        self._cond = threading.Condition()
        self._queues: dict[str, list[_Entry]] = {MAIN: []}
        self._running: dict[int, Task] = {}
        self._cancelled: set[int] = set()
        self._failures: dict[str, int] = {}
        self._closed = False

    # ---- producers -------------------------------------------------------------------------

    def put(self, task: Task, *, head: bool = False) -> bool:
        """Queue `task` at the tail (or head). Returns False when it was coalesced:

        - a MODULE_RUN (or MODULE_DELETE) for a module that already has one pending is dropped;
          if the pending one is waiting out a backoff it becomes ready now (its input changed);
        - a CONVERGE next to a pending CONVERGE at the insertion end is dropped.
        A MODULE_DELETE cancels the module's pending runs and hook runs (and keeps a running one
        from being retried), so disabling a failing module always works. A hook run that floods
        its queue compacts that hook's pending runs into one (see the module docstring).
        """
        with self._measured(task.queue, "AddFirst" if head else "AddLast"), self._cond:
            if self._closed:
                return False
            if task.type is TaskType.MODULE_DELETE:
                self._cancel_module_work(task.subject)
            entries = self._queues.setdefault(task.queue, [])
            queued = self._absorb(task, entries, head)
            if queued:
                entries.insert(0 if head else len(entries), _Entry(task, self._clock()))
                self._compact_if_flooded(task, entries)
            self._cond.notify_all()  # a new task, or a backed-off one made ready
            return queued

    def ensure(self, queue: str) -> None:
        """Create an empty named queue (so its length is reported before its first task)."""
        with self._cond:
            self._queues.setdefault(queue, [])

    def remove(self, predicate: Callable[[Task], bool]) -> list[Task]:
        """Drop pending tasks matching `predicate` from every queue (a converge restart drains
        the remaining converge tasks this way). Running tasks are not touched."""
        with self._cond:
            removed: list[Task] = []
            for name, entries in self._queues.items():
                removed += [e.task for e in entries if predicate(e.task)]
                self._queues[name] = [e for e in entries if not predicate(e.task)]
            return removed

    def close(self) -> None:
        """Stop handing out tasks and wake every waiting worker (graceful shutdown)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # ---- workers ---------------------------------------------------------------------------

    def next_ready(self, queue: str = MAIN) -> Task | None:
        """Take the first task of `queue` whose delay has passed and whose subject is not
        running; it is running until `done()` or `failed()`. None when there is none."""
        with self._cond:
            return self._take(queue)

    def get(self, queue: str = MAIN, timeout: float | None = None) -> Task | None:
        """Like `next_ready()` but waits up to `timeout` seconds (None: until closed)."""
        with self._cond:
            deadline = None if timeout is None else self._clock() + timeout
            while not self._closed:
                task = self._take(queue)
                if task is not None:
                    return task
                now = self._clock()
                pause = self._until_next_due(queue, now)
                if deadline is not None:
                    if now >= deadline:
                        return None
                    pause = min(pause, deadline - now) if pause is not None else deadline - now
                self._wait(self._cond, pause if pause is not None else 3600.0)
            return None

    def done(self, task: Task) -> None:
        """The task succeeded: it leaves the queue and its key's failure count is reset."""
        with self._measured(task.queue, "RemoveFirst"), self._cond:
            self._finish(task)
            self._failures.pop(task.failure_key, None)

    def failed(self, task: Task) -> float | None:
        """The task failed: count the failure and put the task back at the head of its queue,
        ready after the backoff delay, which is returned. Returns None when the task is not
        retried (a run cancelled by a MODULE_DELETE meanwhile, or the queue is closed)."""
        with self._measured(task.queue, "Requeue"), self._cond:
            cancelled = self._finish(task)
            count = self._failures.get(task.failure_key, 0) + 1
            self._failures[task.failure_key] = count
            if cancelled or self._closed:
                return None
            delay = backoff_delay(count, self.settings)
            self._queues.setdefault(task.queue, []).insert(
                0, _Entry(task, self._clock() + delay)
            )
            self._cond.notify_all()
            return delay

    # ---- observers -------------------------------------------------------------------------

    def pending(self, queue: str = MAIN) -> list[Task]:
        """Tasks waiting in `queue`, in order (backed-off ones included, running ones not)."""
        with self._cond:
            return [e.task for e in self._queues.get(queue, [])]

    def length(self, queue: str = MAIN) -> int:
        """Pending plus running tasks of `queue` (upstream counts the running head task too)."""
        with self._cond:
            running = sum(1 for t in self._running.values() if t.queue == queue)
            return len(self._queues.get(queue, [])) + running

    def lengths(self) -> dict[str, int]:
        """`length()` of every known queue: the `tasks_queue_length` metric."""
        with self._cond:
            names = set(self._queues) | {t.queue for t in self._running.values()}
        return {name: self.length(name) for name in sorted(names)}

    def running(self, subject: str) -> bool:
        """Whether a task of `subject` (a module name, a hook name) is running now."""
        with self._cond:
            return any(t.subject == subject for t in self._running.values())

    def busy(self, subject: str) -> bool:
        """Whether a task of `subject` runs now or waits in any queue (backed-off included)."""
        with self._cond:
            return any(t.subject == subject for t in self._running.values()) or any(
                e.task.subject == subject for entries in self._queues.values() for e in entries)

    def failures(self, key: str) -> int:
        """Consecutive failures of `key` since its last success."""
        with self._cond:
            return self._failures.get(key, 0)

    @contextmanager
    def _measured(self, queue: str, action: str) -> Iterator[None]:
        """Report the duration of the enclosed operation (lock wait included) to the observer."""
        started = self._clock()
        try:
            yield
        finally:
            if self._observer is not None:
                self._observer.action(queue, action, self._clock() - started)

    # ---- internals (called with the lock held) ---------------------------------------------

    def _absorb(self, task: Task, entries: list[_Entry], head: bool) -> bool:
        """Apply the coalescing rules; False when `task` must not be queued."""
        if task.type in (TaskType.MODULE_RUN, TaskType.MODULE_DELETE):
            twin = self._pending_of(task.type, task.subject)
            if twin is not None:
                twin.ready_at = min(twin.ready_at, self._clock())
                return False
        if task.type is TaskType.CONVERGE and entries:
            neighbour = entries[0] if head else entries[-1]
            if neighbour.task.type is TaskType.CONVERGE:
                return False
        return True

    def _pending_of(self, type_: TaskType, subject: str) -> _Entry | None:
        for entries in self._queues.values():
            for entry in entries:
                if entry.task.type is type_ and entry.task.subject == subject:
                    return entry
        return None

    def _compact_if_flooded(self, task: Task, entries: list[_Entry]) -> None:
        """Merge the pending runs of `task`'s hook into the first one when its queue holds more
        than COMPACTION_THRESHOLD tasks and that many of them are runs of this hook. The runs
        are counted only once the queue is that long."""
        if (self._merge is None or task.type not in _COMPACTABLE
                or len(entries) <= COMPACTION_THRESHOLD):
            return
        same = [e for e in entries if e.task.type is task.type and e.task.key == task.key]
        if len(same) < COMPACTION_THRESHOLD:
            return
        first, rest = same[0], same[1:]
        first.task = self._merge(first.task, [e.task for e in rest])
        merged = {id(e) for e in rest}
        entries[:] = [e for e in entries if id(e) not in merged]
        log.info("queue %s: %d pending runs of hook %s merged into one", task.queue, len(same),
                 task.key)

    def _cancel_module_work(self, module: str) -> None:
        def obsolete(t: Task) -> bool:
            return t.type in _CANCELLED_BY_DELETE and t.subject == module

        for name, entries in self._queues.items():
            self._queues[name] = [e for e in entries if not obsolete(e.task)]
        self._cancelled |= {tid for tid, t in self._running.items() if obsolete(t)}

    def _take(self, queue: str) -> Task | None:
        if self._closed:
            return None
        entries = self._queues.setdefault(queue, [])
        now = self._clock()
        busy = {t.subject for t in self._running.values()}
        held: set[tuple[TaskType, str]] = set()   # hooks whose earlier run is not taken yet
        for index, entry in enumerate(entries):
            task = entry.task
            ordered = task.type in _COMPACTABLE
            if ordered and (task.type, task.key) in held:
                continue   # a hook's binding contexts are run in the order they came
            if entry.ready_at > now or task.subject in busy:
                if ordered:
                    held.add((task.type, task.key))
                continue
            del entries[index]
            if task.type is TaskType.CONVERGE:
                self._drop_adjacent_converges(entries, index)
            self._running[task.id] = task
            if self._observer is not None:
                self._observer.waited(task, now - entry.ready_at)
                self._observer.action(queue, "GetFirst", self._clock() - now)
            return task
        return None

    @staticmethod
    def _drop_adjacent_converges(entries: list[_Entry], index: int) -> None:
        while index < len(entries) and entries[index].task.type is TaskType.CONVERGE:
            del entries[index]

    def _until_next_due(self, queue: str, now: float) -> float | None:
        """Seconds until the earliest delayed task of `queue` is due (None: nothing delayed).

        Tasks blocked only by a running subject wake the waiter through `done()`/`failed()`.
        """
        delays = [e.ready_at - now for e in self._queues.get(queue, []) if e.ready_at > now]
        return min(delays) if delays else None

    def _finish(self, task: Task) -> bool:
        """Forget a running task; returns whether a MODULE_DELETE cancelled it meanwhile."""
        if self._running.pop(task.id, None) is None:
            raise ValueError(
                f"task {task.type.value} {task.key!r} (id {task.id}) is not running in queue "
                f"{task.queue!r}: done()/failed() must follow next_ready()/get()"
            )
        self._cond.notify_all()
        if task.id in self._cancelled:
            self._cancelled.discard(task.id)
            return True
        return False
