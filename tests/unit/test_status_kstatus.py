"""kstatus's computed status and `kubectl wait --for=condition` rules on hand-made objects."""

from __future__ import annotations

from typing import Any

import pytest

from kstatus import Status, compute, condition_met


def doc(conditions: list[dict[str, Any]] | None = None, *, generation: int = 2,
        observed: int | None = 2, **meta: Any) -> dict[str, Any]:
    status: dict[str, Any] = {}
    if observed is not None:
        status["observedGeneration"] = observed
    if conditions is not None:
        status["conditions"] = conditions
    return {"metadata": {"name": "x", "generation": generation, **meta}, "status": status}


def c(type_: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": "R", "message": f"{type_} {status}", **extra}


@pytest.mark.parametrize("obj,expected", [
    (None, Status.NOT_FOUND),
    (doc([c("Ready", "True")], deletionTimestamp="2025-01-01T00:00:00Z"), Status.TERMINATING),
    (doc([c("Ready", "True")], observed=1), Status.IN_PROGRESS),
    (doc([c("Ready", "True"), c("Reconciling", "True")]), Status.IN_PROGRESS),
    (doc([c("Ready", "False"), c("Stalled", "True")]), Status.FAILED),
    # Reconciling is checked before Stalled.
    (doc([c("Stalled", "True"), c("Reconciling", "True")]), Status.IN_PROGRESS),
    (doc([c("Ready", "True")]), Status.CURRENT),
    (doc([c("Ready", "False")]), Status.IN_PROGRESS),
    (doc([c("Ready", "Unknown")]), Status.IN_PROGRESS),
    (doc([c("Ready", "True"), c("Stalled", "False"), c("Reconciling", "False")]), Status.CURRENT),
    (doc([]), Status.CURRENT),
    (doc(None, observed=None), Status.CURRENT),
])
def test_compute(obj: dict[str, Any] | None, expected: Status) -> None:
    assert compute(obj).status is expected


def test_compute_message_comes_from_the_deciding_condition() -> None:
    assert compute(doc([c("Ready", "False"), c("Stalled", "True")])).message == "Stalled True"
    assert "LatestGenerationNotObserved" in compute(doc([], observed=1)).message


@pytest.mark.parametrize("obj,condition,value,expected", [
    (doc([c("Ready", "True")]), "Ready", "True", True),
    (doc([c("Ready", "True")]), "ready", "true", True),
    (doc([c("Ready", "False")]), "Ready", "True", False),
    (doc([c("Ready", "False")]), "Ready", "False", True),
    (doc([c("Enabled", "True")]), "Ready", "True", False),
    # A stale condition does not count: its own observedGeneration, else the status's.
    (doc([c("Ready", "True", observedGeneration=1)]), "Ready", "True", False),
    (doc([c("Ready", "True")], observed=1), "Ready", "True", False),
    (doc([c("Ready", "True", observedGeneration=2)], observed=1), "Ready", "True", True),
    (doc([c("Ready", "True")], observed=None), "Ready", "True", True),
])
def test_kubectl_wait(obj: dict[str, Any], condition: str, value: str, expected: bool) -> None:
    assert condition_met(obj, condition, value) is expected
