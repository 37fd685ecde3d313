"""Disabling a module (as upstream's `ModuleDelete` task does).

Called by the task handlers for a `ModuleDelete` task: `beforeDeleteHelm` hooks when the module
has a release (or has no chart at all), `helm uninstall` (only releases addon-operator created:
a foreign one is left alone with a warning Event), then `afterDeleteHelm` hooks, which always
run. A failing `beforeDeleteHelm` skips the uninstall and fails the task, which is retried.
Afterwards the hooks' bindings stop, the module's stored values patches are dropped and its next
enable runs `onStartup` again.

At start-up (`startup=True`) a disabled module is only checked for a left-over release; with
none, no hook runs. `purge_unknown` removes releases of modules that no longer exist.
"""

from __future__ import annotations

import logging
from typing import Any

from addon_operator.helm import HelmError, ReleaseNotOwnedError
from addon_operator.kube import NORMAL, WARNING
from addon_operator.logs import bind
from addon_operator.status.module import UNINSTALL_FAILED, UNINSTALLED
from addon_operator.status.verdict import HELM_FAILED

from .binding_runs import BindingRuns
from .errors import RunFailed
from .events import EventRecorder
from .hook_runs import LifecycleHooks
from .module_run import Helm
from .state import RuntimeState
from .status_writer import StatusWriter

log = logging.getLogger(__name__)


class ModuleDeleter:
    def __init__(self, state: RuntimeState, hooks: LifecycleHooks, helm: Helm, *,
                 bindings: BindingRuns, events: EventRecorder, writer: StatusWriter) -> None:
        self._writer = writer
        self._state = state
        self._hooks = hooks
        self._bindings = bindings
        self._helm = helm
        self._events = events

    def delete(self, name: str, activation: str, *, startup: bool) -> None:
        runtime = self._state.module(name)
        module = runtime.module
        if module is None or runtime.suspend or runtime.status.enabled is not False:
            return  # enabled again meanwhile, suspended, or unknown: nothing to remove
        logger = bind(log, module=name)
        status = runtime.status
        inputs = self._state.module_inputs(runtime)
        status.observed_generation = status.run_generation = inputs.generation
        self._writer.module(runtime)
        try:
            release = self._helm.status(name) if module.has_chart else None
        except HelmError as exc:
            raise RunFailed(HELM_FAILED, str(exc)) from None
        if release is None and startup:
            status.release = None
            return
        self._hooks.ensure_module_hooks(runtime)
        if release is not None or not module.has_chart:
            self._hooks.run_module(runtime, inputs, "beforeDeleteHelm", activation)
        if release is not None:
            self._uninstall(name, runtime.involved)
        status.release = None
        self._hooks.run_module(runtime, inputs, "afterDeleteHelm", activation)
        self._bindings.disable_module(runtime)
        runtime.patches = []
        runtime.startup_due = True
        runtime.crds_due = True
        logger.info("module disabled")

    def purge_unknown(self) -> list[str]:
        """Uninstall the releases this operator created for modules no longer on disk
        (upstream's DiscoverHelmReleases and ModulePurge, run after the first converge; never
        retried). Releases of other owners are left alone. Returns the purged names."""
        known = {module.name for module in self._state.discovery.modules}
        try:
            releases = self._helm.list_releases()
        except HelmError as exc:
            log.warning("cannot list releases to purge unknown ones: %s", exc)
            return []
        purged = []
        for release in releases:
            if not release.owned or release.name in known:
                continue
            try:
                self._helm.uninstall(release.name)
                purged.append(release.name)
                log.info("purged release %s: no module of this name exists", release.name)
            except HelmError as exc:
                log.warning("cannot purge release %s: %s", release.name, exc)
        return purged

    def _uninstall(self, name: str, involved: dict[str, Any]) -> None:
        status = self._state.module(name).status
        try:
            removed = self._helm.uninstall(name)
        except ReleaseNotOwnedError as exc:
            self._events.post(involved, WARNING, "ReleaseNotOwned", str(exc))
            return
        except HelmError as exc:
            status.helm_reason, status.helm_message = UNINSTALL_FAILED, str(exc)
            self._events.post(involved, WARNING, UNINSTALL_FAILED, str(exc))
            raise RunFailed(HELM_FAILED, str(exc)) from None
        if removed:
            status.helm_reason, status.helm_message = UNINSTALLED, f"release {name} uninstalled"
            self._events.post(involved, NORMAL, UNINSTALLED, status.helm_message)
