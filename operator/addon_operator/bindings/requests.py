"""What the binding engine hands to the runtime: hook references and hook run requests.

The monitors (`monitor.py`) and the schedule manager (`schedule.py`) turn watch events and
crontab ticks into `RunRequest`s and pass each one to the runtime's `emit` callback; the runtime
queues one task per request, combines queued requests of the same hook (`combine.py`) and asks
the engine for the final binding contexts right before the run (`engine.HookBindings.contexts`).
Binding problems (an unknown kind, a failing watch) go to the `report` callback so the runtime can
show them in the hook's status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from addon_operator.hooks.contexts import BindingContext


@dataclass(frozen=True)
class HookRef:
    """A hook: its name, and the module it belongs to (None for a global hook)."""

    name: str
    module: str | None = None

    def describe(self) -> str:
        if self.module:
            return f"module {self.module} hook {self.name}"
        return f"global hook {self.name}"


@dataclass(frozen=True)
class RunRequest:
    """One reason to run a hook, queued as one task in `queue`.

    `context` is the binding context as known when the request was made: for a Synchronization
    its `objects` and for any context its `snapshots` are filled in at run time (a grouped
    binding's context is a Group context, so `synchronization` says what it stands for).
    `run_hook` is False for a Synchronization of a binding with `executeHookOnSynchronization:
    false` (or of a v0 hook): the task only marks the binding synchronized. `wait` marks a
    Synchronization that start-up (global hooks) or the module run (module hooks) waits for.
    `group` is the binding's group. `serial` orders requests; requests made before a hook was
    last disabled are stale (`HookBindings.is_current`).
    """

    hook: HookRef
    binding: str
    queue: str
    context: BindingContext
    allow_failure: bool = False
    run_hook: bool = True
    wait: bool = False
    group: str | None = None
    synchronization: bool = False
    serial: int = 0


Emit = Callable[[RunRequest], None]
# report(hook, binding, message): a binding problem; message None clears the binding's problem.
Report = Callable[[HookRef, str, "str | None"], None]
