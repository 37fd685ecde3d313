"""`GlobalConfig.status` from what the runtime observed (docs/crd-reference.md, GlobalConfig). Pure.

The runtime keeps one `GlobalState` for `GlobalConfig/global` (global settings validation,
global hook results, converge progress) and the module counts, which `module_counts()` derives
from the Module statuses it built. Phases: Pending (before the first converge), Reconciling,
Ready, Failed. `Ready` is about the global part only (global settings and global hooks): a
failing module is isolated and shows in `modules.failed` and the message, not in `Ready`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .conditions import ENABLED, TRUE, render
from .hooks import HookState, hook_entries, hooks_condition
from .verdict import (
    FAILED, PHASE_READY, PHASE_UNKNOWN, Failure, Verdict, failure_verdict, pending, progressing,
    settings_condition, succeeded,
)


@dataclass(frozen=True)
class ModuleCounts:
    """`status.modules`: discovered modules, enabled ones, Ready ones and Failed ones."""

    total: int = 0
    enabled: int = 0
    ready: int = 0
    failed: int = 0


@dataclass
class GlobalState:
    """Everything the status of `GlobalConfig/global` is computed from."""

    generation: int
    settings_problems: list[str] | None = None   # None: not validated yet; [] valid
    last_error: Failure | None = None            # the latest converge's failure
    consecutive_failures: int = 0
    stalled_after: int = 5
    reconciling: bool = False                    # a converge is queued or running
    converged: bool = False                      # the first converge has completed
    hooks: dict[str, HookState] = field(default_factory=dict)
    modules: ModuleCounts = field(default_factory=ModuleCounts)


def module_counts(statuses: Iterable[Mapping[str, Any]]) -> ModuleCounts:
    """Counts over Module statuses built by `build_module_status` (phase `Unknown`, i.e. no
    module on disk, is not counted; "enabled" is the `Enabled` condition being True)."""
    total = enabled = ready = failed = 0
    for status in statuses:
        phase = status.get("phase")
        if phase == PHASE_UNKNOWN:
            continue
        total += 1
        conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        enabled += conds.get(ENABLED) == TRUE
        ready += phase == PHASE_READY
        failed += phase == FAILED
    return ModuleCounts(total=total, enabled=enabled, ready=ready, failed=failed)


def build_global_status(
    state: GlobalState, previous: dict[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """The complete `status` of GlobalConfig/global (meant for an update of the subresource)."""
    verdict = _verdict(state)
    conds = verdict.conditions() + [
        settings_condition(state.settings_problems),
        hooks_condition(state.hooks.values(), must_run=True),
    ]
    counts = state.modules
    return {
        "observedGeneration": state.generation,
        "phase": verdict.phase,
        "message": verdict.message,
        "conditions": render(conds, generation=state.generation, previous=previous, now=now),
        "hooks": hook_entries(state.hooks.values()),
        "modules": {
            "total": counts.total, "enabled": counts.enabled,
            "ready": counts.ready, "failed": counts.failed,
        },
    }


def _verdict(s: GlobalState) -> Verdict:
    failed = failure_verdict(
        s.settings_problems, s.last_error, s.consecutive_failures, s.stalled_after
    )
    if failed is not None:
        return failed
    if s.reconciling:
        return progressing("converging modules")
    if not s.converged:
        return pending("waiting for the first converge")
    c = s.modules
    return succeeded(
        f"converged: {c.enabled} of {c.total} modules enabled, {c.ready} ready, {c.failed} failed"
    )
