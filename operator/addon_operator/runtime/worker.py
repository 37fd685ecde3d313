"""Worker threads: take tasks from a queue, run them, report the outcome.

`Workers` runs `count` threads over `TaskQueues.get()` of one queue (`WorkerPools` keeps one
`Workers` per queue: `main`, and the named queues of hook bindings); the queue never hands out
two tasks of the same module at once, so equal-weight modules run in parallel up to the bound
while one module's tasks stay sequential. A handler's `RunFailed` (or any exception: a bug must
not kill the thread) goes to `TaskQueues.failed()`, which schedules the retry with backoff; the
`finished(task, error)` callback then updates the status. A failure while reporting the outcome
is logged and does not kill the thread either; a thread that dies anyway is reported by
`/healthz` (each worker thread is started by `Heartbeats.start`). At shutdown `WorkerPools.join`
waits for all threads together, up to one shared deadline.

`Attempts` counts finished attempts per task subject, so the converge can wait until every
module of a weight group has had its first attempt before starting the next group.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from addon_operator.httpserver import Heartbeats
from addon_operator.logs import FieldsAdapter, bind
from addon_operator.queue import MAIN, Task, TaskQueues

from .errors import RunFailed

log = logging.getLogger(__name__)

GET_TIMEOUT = 0.5

Handle = Callable[[Task], None]
Finished = Callable[[Task, "RunFailed | None"], None]


class Joinable(Protocol):
    def join(self, timeout: float | None = None) -> None: ...


def join_all(threads: Sequence[Joinable], timeout: float,
             clock: Callable[[], float] = time.monotonic) -> None:
    """Wait for every thread, all of them together for at most `timeout` seconds."""
    deadline = clock() + timeout
    for thread in threads:
        thread.join(max(deadline - clock(), 0.0))


class Flag(Protocol):
    """What `Attempts.wait` polls to give up early: a `threading.Event`, or the converge's
    check for a stop or a restart."""

    def is_set(self) -> bool: ...


class Attempts:
    """Finished attempts per (task type, subject), with waiting."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._counts: dict[tuple[str, str], int] = {}

    def count(self, task: Task) -> int:
        with self._cond:
            return self._counts.get(_key(task), 0)

    def record(self, task: Task) -> None:
        with self._cond:
            self._counts[_key(task)] = self._counts.get(_key(task), 0) + 1
            self._cond.notify_all()

    def wait(self, tasks: Iterable[tuple[Task, int]], queues: TaskQueues, stop: Flag) -> None:
        """Until each task's subject has an attempt after `seen`, or has nothing queued or
        running any more (cancelled by a delete), or `stop` is set (polled every
        GET_TIMEOUT seconds)."""
        waiting = list(tasks)
        with self._cond:
            while waiting and not stop.is_set():
                waiting = [(t, seen) for t, seen in waiting
                           if self._counts.get(_key(t), 0) <= seen and _in_flight(t, queues)]
                if waiting:
                    self._cond.wait(GET_TIMEOUT)


class WorkerPools:
    """One `Workers` per queue, started on demand (named queues appear with hook bindings)."""

    def __init__(self, queues: TaskQueues, handle: Handle, finished: Finished, *,
                 attempts: Attempts, stop: threading.Event,
                 heartbeats: Heartbeats | None = None) -> None:
        self._queues = queues
        self._handle = handle
        self._finished = finished
        self._attempts = attempts
        self._stop = stop
        self._heartbeats = heartbeats
        self._pools: dict[str, Workers] = {}
        self._lock = threading.Lock()

    def ensure(self, queue: str, count: int = 1) -> None:
        """Serve `queue` with `count` threads, unless it is served already."""
        with self._lock:
            if queue in self._pools:
                return
            self._queues.ensure(queue)
            pool = Workers(self._queues, self._handle, self._finished, count=count,
                           attempts=self._attempts, stop=self._stop, queue=queue,
                           heartbeats=self._heartbeats)
            self._pools[queue] = pool
        pool.start()

    def join(self, timeout: float) -> None:
        """Wait for the threads of every pool, up to `timeout` seconds in all."""
        with self._lock:
            threads = [t for pool in self._pools.values() for t in pool.threads]
        join_all(threads, timeout)


def _key(task: Task) -> tuple[str, str]:
    return task.type.value, task.subject


def _in_flight(task: Task, queues: TaskQueues) -> bool:
    return queues.running(task.subject) or any(
        t.type is task.type and t.subject == task.subject for t in queues.pending(task.queue))


class Workers:
    """`count` threads serving one queue (`main` by default) until `stop` is set."""

    def __init__(self, queues: TaskQueues, handle: Handle, finished: Finished, *, count: int,
                 attempts: Attempts, stop: threading.Event, queue: str = MAIN,
                 heartbeats: Heartbeats | None = None) -> None:
        self._queues = queues
        self._queue = queue
        self._stop = stop
        self._handle = handle
        self._finished = finished
        self._attempts = attempts
        self._count = count
        # Without the process's Heartbeats (tests), a private one nobody asks.
        self._heartbeats = heartbeats if heartbeats is not None else Heartbeats(math.inf)
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.threads = [self._heartbeats.start(self._loop, f"worker-{self._queue}-{i}")
                        for i in range(self._count)]

    def join(self, timeout: float) -> None:
        join_all(self.threads, timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            task = self._queues.get(self._queue, timeout=GET_TIMEOUT)
            if task is not None:
                self.run_one(task)

    def run_one(self, task: Task) -> None:
        """Run `task`, then report it to the queue, to `finished` (the status) and last to the
        attempt counter."""
        logger = bind(log, task=task.type.value, module=task.module or task.key or None)
        error: RunFailed | None = None
        try:
            self._handle(task)
        except RunFailed as exc:
            error = exc
        except Exception as exc:  # a bug in a handler: fail the task, keep the worker
            logger.exception("task crashed")
            error = RunFailed("InternalError", f"{type(exc).__name__}: {exc}")
        steps: tuple[tuple[str, Callable[[], None]], ...] = (
            ("report it to the queue", lambda: self._report(task, error, logger)),
            ("record its outcome", lambda: self._finished(task, error)),
            # Last: a converge waiting for this attempt goes on only once the status is
            # recorded, so `/readyz` turns 200 with every module's first outcome written.
            ("count the attempt", lambda: self._attempts.record(task)),
        )
        for what, step in steps:
            try:
                step()
            except Exception:  # a bug after the run must not kill the worker either
                logger.exception("task finished, but could not %s", what)

    def _report(self, task: Task, error: RunFailed | None, logger: FieldsAdapter
                ) -> None:
        if error is None:
            self._queues.done(task)
            return
        delay = self._queues.failed(task)
        retry = f"retry in {delay:g}s" if delay is not None else "not retried"
        logger.warning("task failed (%s): %s", retry, error.message)
