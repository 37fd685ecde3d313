"""One module run (as upstream's `ModuleRun` task does; docs/hooks.md, "When hooks run").

Called by the task handlers for a `ModuleRun` task of an enabled, not suspended module:

1. invalid settings (checked when the spec was seen: `SettingsValid=False`, `Stalled`) stop
   here, nothing runs and the release keeps its last good values (after a restart
   `status.release` is read from Helm once, `recall_release`); otherwise the run takes its
   snapshot (`RuntimeState.module_inputs`): every hook and the Helm render of this run use it,
   and its generation becomes `status.observedGeneration` (a spec change during the run waits
   for the next run, which the controllers have asked for);
   the module's `crds/` are applied on the first run after start or enable (`module_crds`);
2. hooks are configured on the first run after start; `onStartup` hooks run on the first run
   after start or enable, then the hooks' kubernetes and schedule bindings start and their
   Synchronization runs (`binding_runs`); then `beforeHelm`;
3. Helm: values checked against the values schema and `x-required-for-helm`; when the release
   is deployed and labelled with the checksum of the current render inputs (chart files,
   values, release, namespace, helm version) nothing else runs; otherwise the chart is rendered
   and `helm upgrade --install` runs only when `should_upgrade` says so (no release, not
   deployed, rendered-manifest checksum changed), Events for every Helm action; a run queued
   by the resource monitor (`heal`: why, e.g. which objects are absent) always renders and
   upgrades, since helm's upgrade recreates objects missing from the cluster;
4. `afterHelm`; when it changed the module's values another run is queued (exactly one more,
   since the next `afterHelm` sees the same values). The snapshot's generation is then the
   module's applied generation (`Ready` may be true for it).
A failure raises `RunFailed`; the queue retries the task with backoff (on a fresh snapshot).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from addon_operator.helm import (
    HelmError, ReleaseInfo, inputs_unchanged, manifest_checksum, prepare_chart, should_upgrade,
)
from addon_operator.kube import NORMAL, WARNING
from addon_operator.logs import bind
from addon_operator.metrics import OperatorMetrics
from addon_operator.status.module import (
    INSTALL_FAILED, INSTALL_SUCCEEDED, RENDER_FAILED, UNLOCKED, UP_TO_DATE, UPGRADE_FAILED,
    UPGRADE_SUCCEEDED,
)
from addon_operator.status.verdict import HELM_FAILED, VALUES_INVALID
from addon_operator.values import (
    GLOBAL_KEY, PatchError, check_helm_values, checksum, validate_values,
)

from .binding_runs import BindingRuns
from .errors import RunFailed
from .events import EventRecorder
from .hook_runs import LifecycleHooks, known_module, patch_problem
from .module_crds import ModuleCrds
from .state import ModuleRuntime, RunInputs, RuntimeState
from .status_writer import StatusWriter

log = logging.getLogger(__name__)
T = TypeVar("T")


class Helm(Protocol):
    """What a module run needs from `helm.HelmClient`."""

    def inputs_checksum(self, release: str, chart_dir: Path, values_file: Path) -> str: ...
    def render(self, release: str, chart_dir: Path, values_file: Path) -> str: ...
    def status(self, release: str) -> ReleaseInfo | None: ...
    def upgrade(self, release: str, chart_dir: Path, values_file: Path, checksum: str,
                inputs_checksum: str | None = None) -> ReleaseInfo: ...
    def uninstall(self, release: str) -> bool: ...
    def list_releases(self) -> list[ReleaseInfo]: ...


def recall_release(runtime: ModuleRuntime, helm: Helm) -> None:
    """Read `status.release` from Helm, once after start, for a module that stops before its
    Helm step (invalid settings, suspended): its status is rebuilt at start and would otherwise
    report its running release as missing. A Helm error is only logged (tried again next time)."""
    module = runtime.module
    if (runtime.release_checked or runtime.status.release is not None or module is None
            or not module.has_chart):
        return
    try:
        runtime.status.release = helm.status(runtime.name)
    except HelmError as exc:
        bind(log, module=runtime.name).warning("cannot read the release from Helm: %s", exc)
        return
    runtime.release_checked = True


class ModuleRunner:
    """Runs modules; `requeue(name)` queues one more run (after an `afterHelm` values change)."""

    def __init__(self, state: RuntimeState, hooks: LifecycleHooks, helm: Helm, *,
                 crds: ModuleCrds, bindings: BindingRuns, events: EventRecorder,
                 metrics: OperatorMetrics, work_dir: Path, requeue: Callable[[str], None],
                 stop: threading.Event, writer: StatusWriter) -> None:
        self._state = state
        self._writer = writer
        self._crds = crds
        self._hooks = hooks
        self._bindings = bindings
        self._stop = stop
        self._helm = helm
        self._events = events
        self._metrics = metrics
        self._work_dir = work_dir
        self._requeue = requeue

    def run(self, name: str, activation: str, heal: str = "") -> None:
        """Run module `name`; a non-empty `heal` (why) makes Helm upgrade even when nothing
        changed (the resource monitor found the release damaged)."""
        runtime = self._state.module(name)
        module = runtime.module
        if module is None or runtime.suspend or runtime.status.enabled is not True:
            return  # disabled meanwhile, suspended, or no such module: nothing to do
        if runtime.status.settings_problems:
            recall_release(runtime, self._helm)
            bind(log, module=name).info("run skipped: the settings of generation %d are "
                                        "invalid, the release keeps the last good values",
                                        runtime.generation)
            return
        inputs = self._state.module_inputs(runtime)
        status = runtime.status
        status.observed_generation = status.run_generation = inputs.generation
        self._writer.module(runtime)   # the run's generation is the observed one from now on
        started = time.monotonic()
        logger = bind(log, module=name, generation=inputs.generation)
        if runtime.crds_due:
            self._crds.ensure(module)
            runtime.crds_due = False
        self._hooks.ensure_module_hooks(runtime)
        if runtime.startup_due:
            self._hooks.run_module(runtime, inputs, "onStartup", activation)
            runtime.startup_due = False
        self._bindings.enable_module(runtime, self._stop)
        self._hooks.run_module(runtime, inputs, "beforeHelm", activation)
        if module.has_chart:
            self._helm_phase(runtime, inputs, activation, heal)
        before = self._values_checksum(runtime, inputs)
        self._hooks.run_module(runtime, inputs, "afterHelm", activation)
        if self._values_checksum(runtime, inputs) != before:
            logger.info("afterHelm hooks changed the values: queueing one more run")
            self._requeue(name)
        status.applied_generation = inputs.generation
        self._metrics.module_run_seconds.labels(module=name, activation=activation).observe(
            time.monotonic() - started)
        logger.info("module run done")

    @staticmethod
    def _values_checksum(runtime: ModuleRuntime, inputs: RunInputs) -> str:
        try:
            return checksum(inputs.module_values())
        except PatchError as exc:
            raise patch_problem(exc, f"module {runtime.name}") from None

    def _helm_phase(self, runtime: ModuleRuntime, inputs: RunInputs, activation: str,
                    heal: str) -> None:
        name = runtime.name
        started = time.monotonic()
        try:
            values, _ = inputs.documents()
        except PatchError as exc:
            raise patch_problem(exc, f"module {name}") from None
        self._check_values(runtime, inputs, values)
        work = self._work_dir / name
        work.mkdir(parents=True, exist_ok=True)
        values_file = work / "values.json"
        values_file.write_text(json.dumps(values, default=str))
        status = runtime.status
        try:
            chart = prepare_chart(known_module(runtime).path, name, work / "chart")
            inputs_sum = self._helm.inputs_checksum(name, chart, values_file)
            current = self._timed(name, activation, "check-upgrade",
                                  lambda: self._helm.status(name))
            # Same inputs as the deployed release: rendering could only reproduce its manifests
            # (a heal renders all the same: its upgrade labels the manifests' checksum).
            rendering = bool(heal) or not inputs_unchanged(current, inputs_sum)
            digest = manifest_checksum(self._timed(
                name, activation, "template",
                lambda: self._helm.render(name, chart, values_file))) if rendering else None
        except HelmError as exc:
            status.helm_reason, status.helm_message = RENDER_FAILED, str(exc)
            self._events.post(runtime.involved, WARNING, "HelmFailed", str(exc))
            raise RunFailed(HELM_FAILED, str(exc)) from None
        upgrade, why = should_upgrade(current, digest) if digest is not None else (False, "")
        if heal and not upgrade:
            upgrade, why = True, heal
        if digest is not None and upgrade:
            status.release = self._upgrade(runtime, chart, values_file, digest, inputs_sum, current,
                                           why, activation)
        else:
            status.release, status.helm_reason, status.helm_message = current, UP_TO_DATE, ""
        self._metrics.module_helm_seconds.labels(module=name, activation=activation).observe(
            time.monotonic() - started)

    def _upgrade(self, runtime: ModuleRuntime, chart: Path, values_file: Path, digest: str,
                 inputs: str, current: ReleaseInfo | None, why: str, activation: str
                 ) -> ReleaseInfo:
        name, status = runtime.name, runtime.status
        try:
            info = self._timed(name, activation, "upgrade", lambda: self._helm.upgrade(
                name, chart, values_file, digest, inputs_checksum=inputs))
        except HelmError as exc:
            status.helm_reason = INSTALL_FAILED if current is None else UPGRADE_FAILED
            status.helm_message = str(exc)
            self._events.post(runtime.involved, WARNING, status.helm_reason, str(exc))
            raise RunFailed(HELM_FAILED, str(exc)) from None
        if current is None:
            status.helm_reason, action = INSTALL_SUCCEEDED, "installed"
        elif current.pending:
            status.helm_reason, action = UNLOCKED, f"recovered from {current.status} and upgraded"
        else:
            status.helm_reason, action = UPGRADE_SUCCEEDED, "upgraded"
        status.helm_message = f"release {name} {action} to revision {info.revision}: {why}"
        self._events.post(runtime.involved, NORMAL, status.helm_reason, status.helm_message)
        bind(log, module=name).info(status.helm_message)
        return info

    @staticmethod
    def _check_values(runtime: ModuleRuntime, inputs: RunInputs, values: dict[str, Any]
                      ) -> None:
        """Values against the values schemas and `x-required-for-helm`, before Helm runs."""
        module = known_module(runtime)
        stores = ((values[GLOBAL_KEY], inputs.global_schemas, "global", GLOBAL_KEY),
                  (values[module.key], inputs.schemas, f"module {module.name}", module.key))
        problems = [p for v, s, o, k in stores for p in validate_values(v, s, o, key=k)]
        problems += [p for v, s, o, k in stores for p in check_helm_values(v, s, o, key=k)]
        if problems:
            raise RunFailed(VALUES_INVALID, "values for Helm are invalid: "
                            + "; ".join(str(p) for p in problems))

    def _timed(self, name: str, activation: str, operation: str, call: Callable[[], T]) -> T:
        started = time.monotonic()
        try:
            return call()
        finally:
            self._metrics.helm_operation_seconds.labels(
                module=name, activation=activation, operation=operation).observe(
                time.monotonic() - started)

