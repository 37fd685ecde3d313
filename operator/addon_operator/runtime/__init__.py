"""The operator runtime: what `addon-operator run` (and `sandbox`) execute.

Data flows one way (docs/architecture.md has the ownership model and the life of a change):

    controllers (Module/GlobalConfig list+watch) ─▶ RuntimeState requests ─▶ TaskQueues
    hook bindings (kubernetes watches, schedules) ─▶ hook-run tasks ─▶ TaskQueues
      ─▶ workers ─▶ converge / module run / module delete / hook run
      ─▶ hooks, values, helm
      ─▶ status writer (status subresource only, coalesced) and Events

- `options.py`      the settings of one operator process (flags, environment, defaults);
- `state.py`        per-module and global runtime state, values composition, pending requests;
- `hook_runs.py`    running hooks (one lifecycle binding over a list of hooks), recording results;
- `binding_runs.py` kubernetes and schedule bindings: enabling them, their hook-run tasks;
- `module_run.py`   one module run: onStartup, beforeHelm, Helm, afterHelm;
- `module_delete.py` beforeDeleteHelm, uninstall, afterDeleteHelm;
- `resource_monitor.py` auto-heal: re-runs modules whose release lost objects or failed;
- `converge.py`     global hooks around enablement and module runs by weight;
- `status_writer.py` status documents written only when they change;
- `controllers.py`  list-then-watch of both kinds, turning generation changes into requests;
- `worker.py`       the threads that take tasks from the queue and report their outcome;
- `queue_metrics.py` the queue's wait and operation metrics, heard from `TaskQueues`;
- `dispatch.py`     which handler runs a task, and what its outcome does to the status;
- `errors.py`, `events.py`  the handlers' failure type and their Events;
- `app.py`          the composition root, started by the `run` and `sandbox` commands.
"""
