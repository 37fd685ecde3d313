"""Hook results as status data: the `hooks` list and the `HooksSucceeded` condition.

Shared by the Module status (module hooks) and the GlobalConfig status (global hooks). The
hook runner keeps one `HookState` per hook and updates it after each run; the builders here
turn those into the CRD shape (docs/crd-reference.md, Module status: name, bindings, lastRun, lastResult,
message, durationSeconds, runs, failures).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .conditions import FALSE, HOOKS_SUCCEEDED, TRUE, UNKNOWN, Cond, clip, timestamp
from .messages import bounded

HOOK_MESSAGE_LIMIT = 4096


class HookResult(StrEnum):
    """The outcome of one hook run (`lastResult`)."""

    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ALLOWED_FAILURE = "AllowedFailure"   # failed, but the hook has `allowFailure: true`


@dataclass
class HookState:
    """What the operator knows about one hook since it started."""

    name: str
    bindings: tuple[str, ...] = ()           # binding names or types, e.g. ("beforeHelm",)
    last_run: datetime | None = None
    last_result: HookResult | None = None
    message: str = ""                        # first lines of stderr of a failed run
    duration_seconds: float | None = None
    runs: int = 0
    failures: int = 0                        # failed runs, allowed failures included
    # binding name -> why it cannot be set up now (e.g. its kind does not exist yet)
    binding_problems: dict[str, str] = field(default_factory=dict)

    def status_message(self) -> str:
        """The last failed run's message, then every binding that cannot be set up."""
        problems = [f"binding {name}: {text}" for name, text in sorted(self.binding_problems.items())]
        return "; ".join(part for part in (self.message, *problems) if part)


def hook_entry(hook: HookState) -> dict[str, Any]:
    """One item of `status.hooks`; fields of a hook that never ran are left out."""
    entry: dict[str, Any] = {"name": hook.name, "bindings": list(hook.bindings)}
    if hook.last_run is not None:
        entry["lastRun"] = timestamp(hook.last_run)
    if hook.last_result is not None:
        entry["lastResult"] = str(hook.last_result)
    message = hook.status_message()
    if message:
        entry["message"] = clip(message, HOOK_MESSAGE_LIMIT)
    if hook.duration_seconds is not None:
        entry["durationSeconds"] = round(hook.duration_seconds, 3)
    entry["runs"] = hook.runs
    entry["failures"] = hook.failures
    return entry


def hook_entries(hooks: Iterable[HookState]) -> list[dict[str, Any]]:
    """`status.hooks` in the order given (the runtime keeps hooks in run order)."""
    return [hook_entry(h) for h in hooks]


def hooks_condition(hooks: Iterable[HookState], *, must_run: bool) -> Cond:
    """`HooksSucceeded`: False naming every hook whose last run failed; True when all hooks
    that ran succeeded (allowed failures are mentioned); when none has run yet it is Unknown if
    hooks are due (`must_run`), True otherwise (a disabled module has nothing to run)."""
    hooks = list(hooks)
    failed = [h for h in hooks if h.last_result is HookResult.FAILED]
    if failed:
        details = "; ".join(
            f"{h.name}: {bounded(h.message) or 'failed'}" for h in failed
        )
        noun = "hook" if len(failed) == 1 else "hooks"
        return Cond(HOOKS_SUCCEEDED, FALSE, "HookFailed", f"{len(failed)} {noun} failed: {details}")
    ran = [h for h in hooks if h.last_result is not None]
    if not hooks:
        return Cond(HOOKS_SUCCEEDED, TRUE, "NoHooks", "there are no hooks")
    if not ran:
        if must_run:
            return Cond(HOOKS_SUCCEEDED, UNKNOWN, "NotRun", "no hook has run yet")
        return Cond(HOOKS_SUCCEEDED, TRUE, "NotRun", "no hook had to run")
    allowed = [h.name for h in ran if h.last_result is HookResult.ALLOWED_FAILURE]
    if allowed:
        return Cond(
            HOOKS_SUCCEEDED, TRUE, "AllowedFailure",
            f"hooks with allowFailure failed: {', '.join(allowed)}; the others succeeded",
        )
    return Cond(
        HOOKS_SUCCEEDED, TRUE, "Succeeded", f"{len(ran)} of {len(hooks)} hooks ran, all succeeded"
    )
