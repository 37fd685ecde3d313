"""Kubernetes and schedule bindings of hooks: watches, snapshots, schedules, run requests.

The runtime holds one `HookBindings` and talks to it through a narrow interface; everything
this package produces reaches the runtime as `RunRequest`s through one callback.

    bindings = HookBindings(kube_client, emit=on_request, report=on_binding_problem)

- `emit(request)` is called from watch and timer threads, one call per Synchronization, Event or
  schedule tick, in order per binding. It must only queue (never call back into `bindings`):
  the runtime puts one hook-run task per request into `request.queue` (a Synchronization of the
  `main` queue at its head, others at the tail) with the request in the task's payload.
- `report(hook, binding, message)` says a binding is broken (unknown kind, failing watch,
  failing jqFilter) or, with `message` None, that it works again: for the hook's status.

Start-up and module runs (upstream's start-up and `ModuleRun` steps; docs/hooks.md,
"`kubernetes` and `schedule` bindings"):

- `enable_kubernetes(hook, config)`: global hooks at start-up, module hooks in the module run
  (`QueueSynchronizationTasks`); `wait_synchronized(hooks, timeout)` / `synchronized(hook)` is
  the `WaitForSynchronization` step (a binding whose kind does not exist yet keeps it false);
- `enable_schedules(hook, config)`, then `start_schedules()` once after the first converge;
- `disable(hook)` when a module is disabled: its watches and schedules stop, and requests it
  made earlier answer `is_current(request) == False` (drop those tasks);
- `stop()` at shutdown.

Running a hook-run task (shell-operator's rate limit and combining rules; docs/hooks.md,
"`kubernetes` and `schedule` bindings"):

1. `time.sleep(bindings.reserve(hook))` (the `settings` rate limit; before combining);
2. `n = absorbable(head, following, version=config.version)` over the requests of the tasks
   queued right behind it in the same queue; remove those `n` tasks;
3. a Synchronization with `run_hook` False is not run; otherwise
   `contexts = bindings.contexts(hook, requests)` and the hook runs with
   `render_contexts(contexts, config.version)`;
4. on success (or an allowed failure) `bindings.done(requests)`: Synchronizations unlock their
   Events. A failed run is retried later with the same requests.

Lifecycle contexts (beforeHelm & co) take `bindings.snapshots(hook, config)`.
"""

from .combine import absorbable, compact_groups
from .engine import HookBindings, KubeApi
from .hub import WatchHub, WatchKey
from .jqfilter import FilterError, ObjectFilter, gojq_value
from .monitor import BindingMonitor
from .ratelimit import TokenBucket, limiter_for
from .requests import Emit, HookRef, Report, RunRequest
from .schedule import ScheduleManager

__all__ = [
    "BindingMonitor", "Emit", "FilterError", "HookBindings", "HookRef", "KubeApi",
    "ObjectFilter", "Report", "RunRequest", "ScheduleManager", "TokenBucket", "WatchHub",
    "WatchKey", "absorbable", "compact_groups", "gojq_value", "limiter_for",
]
