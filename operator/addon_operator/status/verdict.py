"""The phase, the message and the kstatus conditions, shared by both kinds.

A `Verdict` is what the Module and GlobalConfig builders decide about an object's life cycle:
`phase`, `message`, the `Ready` condition and the abnormal-true `Reconciling` / `Stalled`
conditions, present only while true (the kstatus convention). The failure rules live here once:
invalid settings stall at once (the user must act); a failed run is retried, so it is `Reconciling`
reason `ProgressingWithRetry` until `stalled_after` consecutive failures, then `Stalled` reason
`RetriesExhausted` (docs/crd-reference.md, Module conditions). A failed run's messages carry its
error text itself, lines kept, bounded by `messages.bounded`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .conditions import (
    FALSE, READY, RECONCILING, SETTINGS_VALID, STALLED, TRUE, UNKNOWN, Cond, one_line,
)
from .messages import bounded

# Phases (the CRDs' `status.phase` enum).
PENDING = "Pending"
PHASE_RECONCILING = "Reconciling"
PHASE_READY = "Ready"
DISABLED = "Disabled"
FAILED = "Failed"
SUSPENDED = "Suspended"
PHASE_UNKNOWN = "Unknown"

# Ready=False reasons of failed runs, for the runtime to put into `Failure.reason`.
HOOK_FAILED = "HookFailed"
HELM_FAILED = "HelmFailed"
ENABLED_SCRIPT_FAILED = "EnabledScriptFailed"
VALUES_INVALID = "ValuesInvalid"   # a hook's values patch broke the values schema
INVALID_SETTINGS = "InvalidSettings"


@dataclass(frozen=True)
class Failure:
    """Why the latest run failed: a CamelCase `reason` and the full error text (the status
    shows it bounded, the Event and the log in full)."""

    reason: str
    message: str


@dataclass(frozen=True)
class Verdict:
    phase: str
    message: str
    ready: Cond
    reconciling: Cond | None = None
    stalled: Cond | None = None

    def conditions(self) -> list[Cond]:
        """Ready, then Reconciling and Stalled when present."""
        return [c for c in (self.ready, self.reconciling, self.stalled) if c is not None]


def pending(message: str) -> Verdict:
    """Work is due but has not started: kstatus InProgress."""
    return Verdict(
        PENDING, message,
        ready=Cond(READY, UNKNOWN, "Pending", message),
        reconciling=Cond(RECONCILING, TRUE, "Pending", message),
    )


def progressing(message: str) -> Verdict:
    """A run is queued or running: kstatus InProgress."""
    return Verdict(
        PHASE_RECONCILING, message,
        ready=Cond(READY, UNKNOWN, "Progressing", message),
        reconciling=Cond(RECONCILING, TRUE, "Progressing", message),
    )


def succeeded(message: str) -> Verdict:
    """Converged: kstatus Current."""
    return Verdict(PHASE_READY, message, ready=Cond(READY, TRUE, "ReconciliationSucceeded", message))


def settings_condition(problems: Sequence[str] | None) -> Cond:
    """`SettingsValid`: Unknown before validation, False with every problem, else True."""
    if problems is None:
        return Cond(SETTINGS_VALID, UNKNOWN, "NotValidated", "settings have not been validated yet")
    if problems:
        return Cond(SETTINGS_VALID, FALSE, INVALID_SETTINGS, "; ".join(problems))
    return Cond(SETTINGS_VALID, TRUE, "Valid", "settings are valid")


def failure_verdict(
    problems: Sequence[str] | None,
    last_error: Failure | None,
    consecutive_failures: int,
    stalled_after: int,
) -> Verdict | None:
    """`Failed` for invalid settings (stalled at once) or a failed last run (retrying, then
    stalled after `stalled_after` consecutive failures; 0 never stalls); None when neither."""
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        message = one_line(f"invalid settings: {problems[0]}{more}")
        return Verdict(
            FAILED, message,
            ready=Cond(READY, FALSE, INVALID_SETTINGS, message),
            stalled=Cond(STALLED, TRUE, INVALID_SETTINGS, message),
        )
    if last_error is None:
        return None
    error = last_error.message.strip() or last_error.reason
    count = max(consecutive_failures, 1)
    times = "once" if count == 1 else f"{count} times in a row"
    if stalled_after > 0 and count >= stalled_after:
        note = f"failed {times}; still retried, slowly"
        return Verdict(
            FAILED, bounded(f"{error} ({note})"),
            ready=Cond(READY, FALSE, last_error.reason, bounded(error)),
            stalled=Cond(STALLED, TRUE, "RetriesExhausted", bounded(f"{note}: {error}")),
        )
    note = f"failed {times}; retrying with backoff"
    return Verdict(
        FAILED, bounded(f"{error} ({note})"),
        ready=Cond(READY, FALSE, last_error.reason, bounded(error)),
        reconciling=Cond(RECONCILING, TRUE, "ProgressingWithRetry", bounded(f"{note}: {error}")),
    )
