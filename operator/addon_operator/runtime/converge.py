"""The converge (as upstream's `ConvergeModules` task does; docs/hooks.md, "When hooks run").

Called by the task handlers for a `ConvergeModules` task. It takes the pending `Request` from
the state (so coalesced converge tasks lose nothing) and:

1. goes on with the last good global settings: invalid ones (found by the controllers when the
   spec was seen) mark only GlobalConfig (`SettingsValid=False`; at start with none: the defaults),
   so enabling, disabling and running modules never wait for a fixed GlobalConfig;
2. on the first converge after start, runs the global `onStartup` hooks, then starts the global
   hooks' kubernetes and schedule bindings and waits for their Synchronization;
3. for a full converge (start-up, GlobalConfig change, `afterAll` change) runs `beforeAll`;
4. decides enablement for every module (docs/modules.md, Enablement; enabled scripts see the
   modules enabled earlier in the pass), which also notices a change of `spec.enabled` alone;
5. queues `ModuleDelete` for modules that became disabled and waits for their first attempt,
   then queues `ModuleRun` tasks weight group by weight group, waiting for each group's first
   attempt (a failing module is retried by the queue and does not hold the next group);
   a full converge runs every enabled module, a targeted one (a Module change) only the
   changed modules and those whose enablement flipped;
6. for a full converge runs `afterAll`, and asks for another full converge when it changed
   the global values. The first full converge makes the operator ready (`/readyz`) and queues
   the purge of releases whose module is gone (`DiscoverHelmReleases`).

Converge restart (as upstream; docs/differences.md, "Operations"): when a restarting full converge
is asked for while one runs (a GlobalConfig change, a global hook's `*Enabled` patch), the running
one stops at the next safe point (before planning, between weight groups, while waiting for a
group's first attempts, before `afterAll`): it drops the `ModuleRun` tasks it queued that have not
started (the fresh converge queues every enabled module again; runs already started finish; the
deletes it queued stay, and the fresh converge waits for them as for its own), skips `afterAll`,
gives its request back to the state (merged with the new one, so nothing is lost) and puts the fresh
`ConvergeModules` at the head of `main`. A targeted request (a Module change) does not restart a
converge.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from addon_operator.enablement import Decision, ScriptRunner, decide
from addon_operator.metrics import OPERATOR_STARTUP, OperatorMetrics
from addon_operator.queue import Task, TaskQueues, TaskType
from addon_operator.values import checksum

from .binding_runs import BindingRuns
from .errors import RunFailed
from .hook_runs import LifecycleHooks
from .module_run import Helm, recall_release
from .state import Request, RuntimeState
from .status_writer import StatusWriter
from .worker import Attempts

log = logging.getLogger(__name__)

GLOBAL_CHANGED = "GlobalConfigChanged"
MODULE_CHANGED = "ModuleChanged"
AFTER_ALL_CHANGED = "AfterAll-Hooks-Change-Values"


@dataclass(frozen=True)
class Plan:
    """What one converge queues: deletes (reverse run order) and runs (run order)."""

    deletes: list[Task]
    runs: list[Task]


class _Restart(Exception):
    """A full converge was asked for while this one ran: stop here and start afresh."""


class _Interrupted:
    """What the converge's waits poll: the operator stops, or a full converge is due."""

    def __init__(self, stop: threading.Event, state: RuntimeState) -> None:
        self._stop = stop
        self._state = state

    def is_set(self) -> bool:
        return self._stop.is_set() or self._state.restart_requested()


class Converger:
    def __init__(self, state: RuntimeState, hooks: LifecycleHooks, queues: TaskQueues, *,
                 bindings: BindingRuns, attempts: Attempts, stop: threading.Event,
                 run_script: ScriptRunner, metrics: OperatorMetrics, writer: StatusWriter,
                 request: Callable[[Request], None], helm: Helm) -> None:
        self._state = state
        self._hooks = hooks
        self._helm = helm
        self._bindings = bindings
        self._queues = queues
        self._attempts = attempts
        self._stop = stop
        self._run_script = run_script
        self._metrics = metrics
        self._writer = writer
        self._request = request
        self._started = False
        self._interrupted = _Interrupted(stop, state)
        self._queued: set[int] = set()   # ids of the ModuleRun tasks this converge queued

    def converge(self) -> None:
        request = self._state.take_request()
        if not request:
            return
        self._queued = set()
        try:
            self._converge(request)
        except _Restart:
            self._restart(request)
        except Exception:   # RunFailed, or a bug: the retry does the same work
            self._state.request(request)
            raise

    def _converge(self, request: Request) -> None:
        started = time.monotonic()
        g = self._state.global_
        activation = (OPERATOR_STARTUP if request.startup
                      else GLOBAL_CHANGED if request.full else MODULE_CHANGED)
        if request.startup and not self._started:
            self._hooks.run_global("onStartup", activation)
            self._started = True
        if request.startup:
            self._bindings.enable_global()
        if request.full:
            self._hooks.run_global("beforeAll", activation)
        self._checkpoint()
        plan = self.plan(self._decide(), request, activation)
        self._run_and_wait(plan.deletes)
        for _, group in itertools.groupby(plan.runs, key=self._weight):
            self._checkpoint()
            self._run_and_wait(list(group))
        self._checkpoint()   # stopped or restarted during the last group: no afterAll
        if request.full:
            before = self._global_fingerprint()
            self._hooks.run_global("afterAll", activation)
            if self._global_fingerprint() != before:
                log.info("afterAll hooks changed the global values: converging again")
                self._request(Request(full=True))
            if not g.status.converged:
                self._queues.put(Task(TaskType.DISCOVER_RELEASES))
                self._bindings.bindings.start_schedules()
            g.status.converged = True
        seconds = time.monotonic() - started
        self._metrics.convergence_seconds.inc(seconds, activation=activation)
        self._metrics.convergence_total.labels(activation=activation).inc()
        log.info("converge done in %.2fs (%s)", seconds, activation)

    def _checkpoint(self) -> None:
        """A safe point: fail when the operator stops, restart when a full converge is due."""
        if self._stop.is_set():
            raise RunFailed("Stopped", "the operator is stopping: converge interrupted")
        if self._state.restart_requested():
            raise _Restart()

    def _restart(self, request: Request) -> None:
        """Drop this converge's ModuleRun tasks that have not started and queue a fresh
        converge (with this one's request merged in) at the head of `main`."""
        dropped = self._queues.remove(lambda t: t.id in self._queued)
        self._state.request(request)
        self._queues.remove(lambda t: t.type is TaskType.CONVERGE)
        self._queues.put(Task(TaskType.CONVERGE), head=True)
        log.info("a full converge was requested while converging: restarting it first "
                 "(%d queued module runs dropped%s)", len(dropped),
                 f": {', '.join(t.key for t in dropped)}" if dropped else "")

    def _global_fingerprint(self) -> tuple[str, dict[str, bool]]:
        """The global values and the dynamic enablement (`*Enabled` patches): afterAll changing
        either asks for another converge."""
        return checksum(self._state.global_values()), dict(self._state.global_.dynamic_enabled)

    def _decide(self) -> list[Decision]:
        modules = self._state.known()
        return decide(
            self._state.discovery,
            specs={rt.name: rt.spec_enabled for rt in modules},
            dynamic=self._state.global_.dynamic_enabled,
            values_for=self._state.documents_for,
            run_script=self._run_script,
            previous={rt.name: bool(rt.status.enabled) for rt in modules},
        )

    def plan(self, decisions: list[Decision], request: Request, activation: str) -> Plan:
        """Record the decisions and choose the tasks; modules in scope that need no task stop
        showing `Reconciling`, and the decision is their observed generation's (a module that
        runs gets it from its run's snapshot). Suspended modules are left as they are."""
        deletes: list[Task] = []
        runs: list[Task] = []
        pending_deletes = {t.key for t in self._queues.pending()
                           if t.type is TaskType.MODULE_DELETE}
        for decision in decisions:
            rt = self._state.modules[decision.module]
            if rt.suspend:
                recall_release(rt, self._helm)   # its status was rebuilt at start
                rt.status.observed_generation = rt.generation   # decided: nothing runs
                self._writer.module(rt)  # phase Suspended, also for one suspended from the start
                continue
            previous = rt.status.enabled
            rt.status.enabled = decision.enabled
            rt.status.enabled_reason = decision.reason
            rt.status.enabled_message = decision.message
            in_scope = request.full or rt.name in request.modules
            payload = {"activation": activation}
            if decision.enabled and (previous is not True or in_scope):
                if previous is not True:
                    rt.startup_due = True
                runs.append(Task(TaskType.MODULE_RUN, key=rt.name, payload=payload))
            elif not decision.enabled and (previous is not False
                                           or in_scope and rt.name in pending_deletes):
                # A delete a restarted converge queued and that did not run yet is waited for
                # again (the new task coalesces with it), so it still goes before the runs.
                deletes.append(Task(TaskType.MODULE_DELETE, key=rt.name,
                                    payload={**payload, "startup": previous is None}))
            elif in_scope or (not decision.enabled
                              and rt.status.observed_generation != rt.generation):
                rt.status.reconciling = False
                rt.status.observed_generation = rt.generation   # decided: nothing to run
                self._writer.module(rt)
        deletes.reverse()
        return Plan(deletes, runs)

    def _weight(self, task: Task) -> int:
        module = self._state.modules[task.key].module
        return module.weight if module is not None else 0

    def _run_and_wait(self, tasks: list[Task]) -> None:
        if not tasks:
            return
        seen = [(task, self._attempts.count(task)) for task in tasks]
        for task in tasks:
            runtime = self._state.modules[task.key]
            runtime.status.reconciling = True
            self._writer.module(runtime)
            if self._queues.put(task) and task.type is TaskType.MODULE_RUN:
                self._queued.add(task.id)
        self._attempts.wait(seen, self._queues, self._interrupted)
