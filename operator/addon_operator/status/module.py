"""`Module.status` from what the runtime observed (docs/crd-reference.md, Module). Pure.

The runtime keeps one `ModuleState` per Module object, fills it as enablement, settings
validation, hooks and Helm report in, and calls `build_module_status(state, previous, now)`;
it writes the result through the status subresource only when `status_changed()` says so.

Phase precedence, first match wins:
  Unknown   no such module on disk; `Stalled=True` reason `UnknownModule` (kstatus Failed: the
            user must rename or remove the object);
  Suspended `spec.suspend`; `Ready=True` reason `Suspended` (kstatus Current: nothing is in
            progress, by the user's choice; the other conditions keep the last known facts);
  Pending   enablement not decided yet, or an enabled module not yet run;
  Failed    invalid settings of an enabled module (`Stalled` at once) or a failed last run
            (`Reconciling` reason `ProgressingWithRetry`, `Stalled` after `stalled_after`);
  Reconciling  a run (or a disable) is queued or running, or the newest generation has not
            been acted on yet (its run waits for the one before);
  Disabled  cleanly disabled: `Ready=True` reason `Disabled`, so GitOps tools see it healthy;
  Ready     enabled and converged.

Generations: `generation` is the newest `metadata.generation` seen; `Ready`, `Reconciling`,
`Stalled`, `Enabled` and `SettingsValid` are stamped with it (settings are validated when the
spec is seen). `Ready=True` needs the newest generation acted on (`observed_generation`) and,
for an enabled module, deployed by a successful run (`applied_generation`): a run of an older
snapshot never makes a newer spec look ready. `HooksSucceeded` and `HelmReleased` describe the
last run and carry its snapshot's generation (`run_generation`). `status.observedGeneration` is
`observed_generation`: the generation of the last run's snapshot, or of a decision that needed
no run (invalid settings, disabled, suspended).
The output is a complete document; the status writer sends it as a merge patch that also
deletes the top-level keys that disappeared (`release` after an uninstall).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from addon_operator.helm.release import ReleaseInfo

from .conditions import (
    ENABLED, FALSE, HELM_RELEASED, READY, STALLED, TRUE, UNKNOWN, Cond, render,
)
from .hooks import HookState, hook_entries, hooks_condition
from .verdict import (
    DISABLED, PHASE_UNKNOWN, SUSPENDED, Failure, Verdict, failure_verdict, pending,
    progressing, settings_condition, succeeded,
)

# `HelmReleased` reasons the runtime reports after a Helm action (`ModuleState.helm_reason`).
INSTALL_SUCCEEDED = "InstallSucceeded"
UPGRADE_SUCCEEDED = "UpgradeSucceeded"
UP_TO_DATE = "UpToDate"
UNLOCKED = "Unlocked"                 # a release stuck in pending-* was recovered
UNINSTALLED = "Uninstalled"
INSTALL_FAILED = "InstallFailed"
UPGRADE_FAILED = "UpgradeFailed"
RENDER_FAILED = "RenderFailed"
UNINSTALL_FAILED = "UninstallFailed"


@dataclass
class ModuleState:
    """Everything the status of one Module object is computed from."""

    name: str
    generation: int                          # the newest metadata.generation seen
    observed_generation: int = 0             # the newest one acted on (a run's snapshot, ...)
    applied_generation: int | None = None    # the snapshot of the last successful run
    run_generation: int | None = None        # the snapshot of the last run (hooks, Helm)
    weight: int | None = None
    module_known: bool = True                # a module of this name was discovered
    has_chart: bool = True
    enabled: bool | None = None              # None: not decided yet
    enabled_reason: str = ""                 # enablement.Reason value of the deciding step
    enabled_message: str = ""
    suspended: bool = False
    settings_problems: list[str] | None = None   # None: not validated yet; [] valid
    last_error: Failure | None = None        # the latest run's failure; None after a success
    consecutive_failures: int = 0
    stalled_after: int = 5                   # QueueSettings.stall_after; 0 never stalls
    reconciling: bool = False                # a run or disable of this module is queued/running
    release: ReleaseInfo | None = None       # the release's latest revision, from Helm
    helm_reason: str = ""                    # outcome of the last Helm action (constants above)
    helm_message: str = ""
    hooks: dict[str, HookState] = field(default_factory=dict)


def build_module_status(
    state: ModuleState, previous: dict[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """The complete `status` of a Module; `previous` (the current status, or None) only
    supplies the `lastTransitionTime` of conditions whose status did not change."""
    verdict = _verdict(state)
    conds = verdict.conditions()
    if state.module_known:
        ran = state.run_generation
        conds += [
            _enabled_condition(state),
            settings_condition(state.settings_problems),
            replace(hooks_condition(state.hooks.values(), must_run=bool(state.enabled)),
                    generation=ran),
            replace(_helm_condition(state), generation=ran),
        ]
    status: dict[str, Any] = {
        "observedGeneration": (state.observed_generation if state.module_known
                               else state.generation),
        "phase": verdict.phase,
        "message": verdict.message,
    }
    if state.weight is not None:
        status["weight"] = state.weight
    status["conditions"] = render(conds, generation=state.generation, previous=previous, now=now)
    if state.release is not None:
        status["release"] = release_entry(state.release)
    if state.module_known:
        status["hooks"] = hook_entries(state.hooks.values())
    return status


def release_entry(info: ReleaseInfo) -> dict[str, Any]:
    """`status.release` from Helm's view of the latest revision."""
    entry: dict[str, Any] = {
        "name": info.name,
        "namespace": info.namespace,
        "revision": info.revision,
        "status": info.status,
        "chart": info.chart,
        "chartVersion": info.chart_version,
    }
    if info.checksum:
        entry["checksum"] = info.checksum
    if info.last_deployed:
        entry["lastDeployed"] = info.last_deployed
    return entry


def _verdict(s: ModuleState) -> Verdict:
    if not s.module_known:
        message = f"no module named {s.name!r} was discovered in the modules directories"
        return Verdict(
            PHASE_UNKNOWN, message,
            ready=Cond(READY, FALSE, "UnknownModule", message),
            stalled=Cond(STALLED, TRUE, "UnknownModule", message),
        )
    if s.suspended:
        message = "suspended by spec.suspend: hooks and Helm do not run, nothing is uninstalled"
        return Verdict(SUSPENDED, message, ready=Cond(READY, TRUE, "Suspended", message))
    if s.enabled is None:
        return pending("waiting for enablement to be decided")
    failed = failure_verdict(
        s.settings_problems if s.enabled else None,
        s.last_error, s.consecutive_failures, s.stalled_after,
    )
    if failed is not None:
        return failed
    if s.reconciling:
        return progressing(
            "running hooks and Helm" if s.enabled
            else "disabling: running delete hooks and uninstalling the release"
        )
    if s.observed_generation != s.generation or (
            s.enabled and s.applied_generation != s.generation):
        return progressing(f"generation {s.generation} is waiting for its run")
    if not s.enabled:
        why = f": {s.enabled_message}" if s.enabled_message else ""
        message = f"disabled{why}"
        return Verdict(DISABLED, message, ready=Cond(READY, TRUE, "Disabled", message))
    if s.has_chart and s.release is None:
        return pending("waiting for its first run")
    if s.has_chart and s.release is not None and s.release.status != "deployed":
        return pending(
            f"release revision {s.release.revision} is {s.release.status}; waiting for the next run"
        )
    if s.release is not None:
        message = f"release {s.release.name} revision {s.release.revision} is deployed"
    else:
        message = "hooks succeeded; the module has no Helm chart"
    return succeeded(message)


def _enabled_condition(s: ModuleState) -> Cond:
    if s.enabled is None:
        return Cond(
            ENABLED, UNKNOWN, s.enabled_reason or "NotDecided",
            s.enabled_message or "enablement has not been decided yet",
        )
    verdict = "enabled" if s.enabled else "disabled"
    return Cond(
        ENABLED, TRUE if s.enabled else FALSE, s.enabled_reason or "Default",
        s.enabled_message or verdict,
    )


def _camel(status: str) -> str:
    """`pending-upgrade` -> `PendingUpgrade` (a condition reason from a Helm release status)."""
    return "".join(part.capitalize() for part in status.split("-") if part) or "Unknown"


def _helm_condition(s: ModuleState) -> Cond:
    """`HelmReleased`: True iff the release's latest revision is deployed and the last Helm
    action did not fail; the reason is the last action's outcome when the runtime gave one."""
    if not s.has_chart:
        return Cond(HELM_RELEASED, TRUE, "NoChart", "the module has no Helm chart")
    failed = s.helm_reason.endswith("Failed")
    release = s.release
    if release is None:
        reason = s.helm_reason or "NotInstalled"
        return Cond(HELM_RELEASED, FALSE, reason, s.helm_message or "no release is installed")
    described = f"release {release.name} revision {release.revision} is {release.status}"
    message = s.helm_message or described
    if release.status == "deployed" and not failed:
        return Cond(HELM_RELEASED, TRUE, s.helm_reason or "Deployed", message)
    reason = s.helm_reason if failed else _camel(release.status)
    return Cond(HELM_RELEASED, FALSE, reason, message)
