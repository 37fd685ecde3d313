"""GlobalConfig status documents and the module counts they carry."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from addon_operator.status import (
    Failure,
    GlobalState,
    HookResult,
    HookState,
    ModuleCounts,
    ModuleState,
    build_global_status,
    build_module_status,
    module_counts,
    status_changed,
)
import kstatus

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
COUNTS = ModuleCounts(total=4, enabled=3, ready=2, failed=1)


def gstate(**overrides: Any) -> GlobalState:
    base: dict[str, Any] = dict(
        generation=2, settings_problems=[], converged=True, modules=COUNTS,
        hooks={"global/startup": HookState(
            "global/startup", ("onStartup",), NOW, HookResult.SUCCEEDED, "", 0.5, 1, 0)},
    )
    base.update(overrides)
    return GlobalState(**base)


CASES = [
    ("ready", gstate(), "Ready", "True", "Current"),
    ("before first converge", gstate(converged=False), "Pending", "Unknown", "InProgress"),
    ("converging", gstate(reconciling=True), "Reconciling", "Unknown", "InProgress"),
    ("hook failed", gstate(last_error=Failure("HookFailed", "global hook failed"),
                           consecutive_failures=1), "Failed", "False", "InProgress"),
    ("hook failing for long", gstate(last_error=Failure("HookFailed", "global hook failed"),
                                     consecutive_failures=9), "Failed", "False", "Failed"),
    ("invalid settings", gstate(settings_problems=["settings.domain: not a string"]),
     "Failed", "False", "Failed"),
]


@pytest.fixture(scope="module")
def status_schema() -> dict[str, Any]:
    crd = yaml.safe_load((ROOT / "crds" / "globalconfigs.addon-operator.io.yaml").read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]


@pytest.mark.parametrize("case_state,phase,ready,reading", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_global_status_reads_as_intended(
    case_state: GlobalState, phase: str, ready: str, reading: str, status_schema: dict[str, Any]
) -> None:
    status = build_global_status(case_state, None, NOW)
    jsonschema.validate(status, status_schema)
    assert status["phase"] == phase
    by_type = {c["type"]: c for c in status["conditions"]}
    assert by_type["Ready"]["status"] == ready
    document = {"metadata": {"name": "global", "generation": 2}, "status": status}
    assert kstatus.compute(document).status == reading
    assert kstatus.condition_met(document, "Ready") is (ready == "True")


def test_ready_global_status_shape() -> None:
    status = build_global_status(gstate(), None, NOW)
    assert status["modules"] == {"total": 4, "enabled": 3, "ready": 2, "failed": 1}
    assert status["message"] == "converged: 3 of 4 modules enabled, 2 ready, 1 failed"
    assert [c["type"] for c in status["conditions"]] == ["Ready", "SettingsValid", "HooksSucceeded"]
    assert status["hooks"][0]["name"] == "global/startup"
    again = build_global_status(gstate(), status, NOW + timedelta(hours=1))
    assert not status_changed(status, again)
    assert status_changed(status, build_global_status(
        gstate(modules=ModuleCounts(4, 3, 3, 0)), status, NOW))


def test_module_counts_from_module_statuses() -> None:
    def module(**kw: Any) -> dict[str, Any]:
        return build_module_status(ModuleState(name="m", generation=1, observed_generation=1,
                                               applied_generation=1, **kw), None, NOW)

    statuses = [
        module(enabled=True, has_chart=False, settings_problems=[]),             # Ready
        module(enabled=False),                                                  # Disabled
        module(enabled=True, last_error=Failure("HookFailed", "boom")),         # Failed
        module(enabled=True, reconciling=True),                                 # Reconciling
        module(module_known=False),                                             # not counted
    ]
    assert module_counts(statuses) == ModuleCounts(total=4, enabled=3, ready=1, failed=1)
