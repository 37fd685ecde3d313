"""How standard tools read our objects: kstatus's computed status and `kubectl wait`.

kstatus (kubernetes-sigs/cli-utils) is what Flux health checks and Helm 4's `--wait` use;
`kubectl wait --for=condition=Ready` is what scripts use. Both are re-stated here from their
documented rules (cli-utils' `pkg/kstatus` README; `kubectl wait`'s reference) so the tests can
prove that every status `addon_operator.status` produces is read as intended:

  Module phase   Ready condition          kstatus      note
  Ready          True                     Current
  Disabled       True, reason Disabled    Current      cleanly disabled is healthy
  Suspended      True, reason Suspended   Current      paused by the user; nothing in progress
  Pending        Unknown + Reconciling    InProgress
  Reconciling    Unknown + Reconciling    InProgress
  Failed         False + Reconciling      InProgress   retrying with backoff
  Failed         False + Stalled          Failed       invalid settings or retries exhausted
  Unknown        False + Stalled          Failed       no such module: the user must act
and any status whose observedGeneration is behind metadata.generation is InProgress.
A test helper, imported as `kstatus` (tests/ is on the tests' import path, as for
`argocd_lua`): the operator never imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    CURRENT = "Current"
    TERMINATING = "Terminating"
    NOT_FOUND = "NotFound"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class Result:
    status: Status
    message: str


def _conditions(obj: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    items = (obj.get("status") or {}).get("conditions") or []
    return {c["type"]: c for c in items if isinstance(c, Mapping) and "type" in c}


def compute(obj: Mapping[str, Any] | None) -> Result:
    """kstatus `Compute()` for a custom resource (no built-in kind rules apply to ours)."""
    if obj is None:
        return Result(Status.NOT_FOUND, "resource not found")
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return Result(Status.TERMINATING, "resource scheduled for deletion")
    status = obj.get("status") or {}
    observed = status.get("observedGeneration")
    generation = meta.get("generation")
    if observed is not None and observed != generation:
        return Result(
            Status.IN_PROGRESS,
            f"LatestGenerationNotObserved: generation {generation}, observed {observed}",
        )
    conds = _conditions(obj)
    reconciling, stalled, ready = conds.get("Reconciling"), conds.get("Stalled"), conds.get("Ready")
    if reconciling and reconciling.get("status") == "True":
        return Result(Status.IN_PROGRESS, str(reconciling.get("message", "")))
    if stalled and stalled.get("status") == "True":
        return Result(Status.FAILED, str(stalled.get("message", "")))
    if ready is not None:
        if ready.get("status") == "True":
            return Result(Status.CURRENT, str(ready.get("message", "")))
        return Result(Status.IN_PROGRESS, str(ready.get("message", "")))
    return Result(Status.CURRENT, "resource is current")


def condition_met(obj: Mapping[str, Any], condition: str, value: str = "True") -> bool:
    """`kubectl wait --for=condition=<condition>[=<value>]`: the type matches case-insensitively;
    a condition whose observedGeneration (its own, else the status's) is behind
    metadata.generation does not count."""
    generation = (obj.get("metadata") or {}).get("generation")
    status = obj.get("status") or {}
    for cond in status.get("conditions") or []:
        if str(cond.get("type", "")).lower() != condition.lower():
            continue
        observed = cond.get("observedGeneration", status.get("observedGeneration"))
        if generation is not None and observed is not None and observed < generation:
            continue
        return str(cond.get("status", "")).lower() == value.lower()
    return False
