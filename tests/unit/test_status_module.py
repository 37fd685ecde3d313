"""Module status documents: phases, conditions, kstatus and `kubectl wait` readings, CRD shape."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from addon_operator.helm.release import ReleaseInfo
from addon_operator.status import (
    Failure,
    HookResult,
    HookState,
    ModuleState,
    build_module_status,
    status_changed,
)
from addon_operator.status.hooks import hook_entry
import kstatus

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(minutes=5)
REASON_RE = re.compile(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")


def deployed(revision: int = 1, status: str = "deployed") -> ReleaseInfo:
    return ReleaseInfo(
        name="echo", namespace="addons", revision=revision, status=status, chart="echo",
        chart_version="0.1.0", last_deployed="2025-03-01T11:59:00Z", checksum="abc", owned=True,
    )


def ok_hook(name: str = "hooks/prepare") -> HookState:
    return HookState(
        name=name, bindings=("beforeHelm",), last_run=NOW, last_result=HookResult.SUCCEEDED,
        duration_seconds=0.12345, runs=2, failures=0,
    )


def failed_hook() -> HookState:
    return HookState(
        name="hooks/broken", bindings=("afterHelm",), last_run=NOW,
        last_result=HookResult.FAILED, message="jq: error: bad filter\nmore detail",
        duration_seconds=1.5, runs=3, failures=3,
    )


def state(**overrides: Any) -> ModuleState:
    base: dict[str, Any] = dict(
        name="echo", generation=3, observed_generation=3, applied_generation=3,
        run_generation=3, weight=100, enabled=True, enabled_reason="ModuleSpec",
        enabled_message="spec.enabled is true", settings_problems=[], release=deployed(),
        helm_reason="UpgradeSucceeded", hooks={"hooks/prepare": ok_hook()},
    )
    base.update(overrides)
    return ModuleState(**base)


def obj(status: dict[str, Any], generation: int = 3) -> dict[str, Any]:
    return {"metadata": {"name": "echo", "generation": generation}, "status": status}


def conds(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in status["conditions"]}


# Every kind of status the builder produces: (id, state, phase, Ready status/reason,
# kstatus reading, `kubectl wait --for=condition=Ready` met?)
CASES = [
    ("ready", state(), "Ready", ("True", "ReconciliationSucceeded"), "Current", True),
    ("hooks-only ready", state(has_chart=False, release=None, helm_reason=""),
     "Ready", ("True", "ReconciliationSucceeded"), "Current", True),
    ("disabled", state(enabled=False, enabled_reason="Default", release=None,
                       helm_reason="Uninstalled", hooks={}),
     "Disabled", ("True", "Disabled"), "Current", True),
    ("suspended", state(suspended=True), "Suspended", ("True", "Suspended"), "Current", True),
    ("undecided", state(enabled=None, enabled_reason="", release=None, hooks={}),
     "Pending", ("Unknown", "Pending"), "InProgress", False),
    ("enabled, not run", state(release=None, helm_reason="", hooks={"h": HookState("h")}),
     "Pending", ("Unknown", "Pending"), "InProgress", False),
    ("release pending", state(release=deployed(2, "pending-upgrade"), helm_reason=""),
     "Pending", ("Unknown", "Pending"), "InProgress", False),
    ("running", state(reconciling=True), "Reconciling", ("Unknown", "Progressing"),
     "InProgress", False),
    ("disabling", state(enabled=False, reconciling=True), "Reconciling",
     ("Unknown", "Progressing"), "InProgress", False),
    ("hook failed, retrying", state(
        last_error=Failure("HookFailed", "hook hooks/broken failed: jq: error"),
        consecutive_failures=2, hooks={"hooks/broken": failed_hook()}),
     "Failed", ("False", "HookFailed"), "InProgress", False),
    ("hook failed, stalled", state(
        last_error=Failure("HookFailed", "hook hooks/broken failed"), consecutive_failures=5,
        hooks={"hooks/broken": failed_hook()}),
     "Failed", ("False", "HookFailed"), "Failed", False),
    ("delete failed", state(enabled=False, last_error=Failure("HelmFailed", "uninstall: boom"),
                            consecutive_failures=1),
     "Failed", ("False", "HelmFailed"), "InProgress", False),
    ("invalid settings", state(settings_problems=["settings.replicas: must be of type integer"]),
     "Failed", ("False", "InvalidSettings"), "Failed", False),
    ("unknown module", state(module_known=False, weight=None, enabled=None, release=None, hooks={}),
     "Unknown", ("False", "UnknownModule"), "Failed", False),
    ("settings changed, the last run was of the generation before",
     state(observed_generation=3, generation=3, applied_generation=2),
     "Reconciling", ("Unknown", "Progressing"), "InProgress", False),
    ("disabled, the newest generation not decided yet",
     state(enabled=False, enabled_reason="Default", release=None, hooks={},
           observed_generation=2),
     "Reconciling", ("Unknown", "Progressing"), "InProgress", False),
]


@pytest.mark.parametrize(
    "case_state,phase,ready,reading,wait_met",
    [c[1:] for c in CASES], ids=[c[0] for c in CASES],
)
def test_every_status_reads_as_intended(
    case_state: ModuleState, phase: str, ready: tuple[str, str], reading: str, wait_met: bool
) -> None:
    status = build_module_status(case_state, None, NOW)
    assert status["phase"] == phase
    ready_cond = conds(status)["Ready"]
    assert (ready_cond["status"], ready_cond["reason"]) == ready
    assert kstatus.compute(obj(status)).status == reading
    assert kstatus.condition_met(obj(status), "ready") is wait_met
    # A newer generation the operator has not seen yet is always InProgress and never "ready".
    assert kstatus.compute(obj(status, generation=4)).status == "InProgress"
    assert kstatus.condition_met(obj(status, generation=4), "Ready") is False


@pytest.fixture(scope="module")
def status_schema() -> dict[str, Any]:
    crd = yaml.safe_load((ROOT / "crds" / "modules.addon-operator.io.yaml").read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]


@pytest.mark.parametrize("case_state", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_every_status_fits_the_crd(case_state: ModuleState, status_schema: dict[str, Any]) -> None:
    status = build_module_status(case_state, None, NOW)
    jsonschema.validate(status, status_schema)
    for cond in status["conditions"]:
        assert REASON_RE.match(cond["reason"]), cond
        assert cond["observedGeneration"] == 3
    assert "\n" not in status["message"] and status["message"]


@pytest.mark.parametrize("case_state", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_reconciling_and_stalled_only_while_true(case_state: ModuleState) -> None:
    by_type = conds(build_module_status(case_state, None, NOW))
    for kind in ("Reconciling", "Stalled"):
        assert by_type.get(kind, {"status": "True"})["status"] == "True"
    assert not ("Reconciling" in by_type and "Stalled" in by_type)


def test_known_module_has_all_conditions_in_order() -> None:
    status = build_module_status(state(), None, NOW)
    assert [c["type"] for c in status["conditions"]] == [
        "Ready", "Enabled", "SettingsValid", "HooksSucceeded", "HelmReleased",
    ]
    assert status["weight"] == 100 and status["observedGeneration"] == 3
    assert status["release"] == {
        "name": "echo", "namespace": "addons", "revision": 1, "status": "deployed",
        "chart": "echo", "chartVersion": "0.1.0", "checksum": "abc",
        "lastDeployed": "2025-03-01T11:59:00Z",
    }
    assert status["hooks"] == [{
        "name": "hooks/prepare", "bindings": ["beforeHelm"], "lastRun": "2025-03-01T12:00:00Z",
        "lastResult": "Succeeded", "durationSeconds": 0.123, "runs": 2, "failures": 0,
    }]
    assert status["message"] == "release echo revision 1 is deployed"


def test_enabled_condition_names_who_decided() -> None:
    enabled = conds(build_module_status(
        state(enabled=False, enabled_reason="EnabledScript",
              enabled_message="enabled script returned false"), None, NOW))["Enabled"]
    assert (enabled["status"], enabled["reason"]) == ("False", "EnabledScript")
    assert enabled["message"] == "enabled script returned false"
    undecided = conds(build_module_status(state(enabled=None, enabled_reason=""), None, NOW))
    assert (undecided["Enabled"]["status"], undecided["Enabled"]["reason"]) == ("Unknown", "NotDecided")


def test_invalid_settings_name_the_field_and_stall() -> None:
    problems = ["settings.replicas: must be of type integer", "settings.foo: unknown field 'foo'"]
    status = build_module_status(state(settings_problems=problems), None, NOW)
    by_type = conds(status)
    assert by_type["SettingsValid"]["status"] == "False"
    assert "settings.replicas" in by_type["SettingsValid"]["message"]
    assert "settings.foo" in by_type["SettingsValid"]["message"]
    assert (by_type["Stalled"]["status"], by_type["Stalled"]["reason"]) == ("True", "InvalidSettings")
    assert "settings.replicas" in status["message"] and "(and 1 more)" in status["message"]
    # The last good release keeps running and is still reported.
    assert status["release"]["revision"] == 1


def test_disabled_module_ignores_invalid_settings_for_ready() -> None:
    status = build_module_status(
        state(enabled=False, release=None, settings_problems=["settings.x: bad"]), None, NOW)
    assert status["phase"] == "Disabled"
    assert conds(status)["SettingsValid"]["status"] == "False"
    assert "Stalled" not in conds(status)


def test_failed_hook_is_named_in_status() -> None:
    status = build_module_status(state(
        last_error=Failure("HookFailed", "hook hooks/broken failed: jq: error: bad filter"),
        consecutive_failures=1, hooks={"hooks/broken": failed_hook()}), None, NOW)
    by_type = conds(status)
    assert by_type["HooksSucceeded"]["status"] == "False"
    assert by_type["HooksSucceeded"]["message"] == \
        "1 hook failed: hooks/broken: jq: error: bad filter\nmore detail", "every line kept"
    assert by_type["Reconciling"]["reason"] == "ProgressingWithRetry"
    assert status["message"] == (
        "hook hooks/broken failed: jq: error: bad filter (failed once; retrying with backoff)"
    )
    assert status["hooks"][0]["message"].startswith("jq: error")


def test_stalled_after_is_configurable_and_zero_never_stalls() -> None:
    failure = Failure("HelmFailed", "upgrade failed")
    assert "Stalled" in conds(build_module_status(
        state(last_error=failure, consecutive_failures=2, stalled_after=2), None, NOW))
    never = conds(build_module_status(
        state(last_error=failure, consecutive_failures=99, stalled_after=0), None, NOW))
    assert "Stalled" not in never and never["Reconciling"]["status"] == "True"


@pytest.mark.parametrize("hooks,must_run_state,expected", [
    ({}, {}, ("True", "NoHooks")),
    ({"h": HookState("h")}, {"release": None}, ("Unknown", "NotRun")),
    ({"h": HookState("h")}, {"enabled": False, "release": None}, ("True", "NotRun")),
    ({"h": ok_hook("h"), "a": HookState("a", last_result=HookResult.ALLOWED_FAILURE, runs=1,
                                        failures=1)}, {}, ("True", "AllowedFailure")),
])
def test_hooks_succeeded(hooks: dict[str, HookState], must_run_state: dict[str, Any],
                         expected: tuple[str, str]) -> None:
    cond = conds(build_module_status(state(hooks=hooks, **must_run_state), None, NOW))["HooksSucceeded"]
    assert (cond["status"], cond["reason"]) == expected


@pytest.mark.parametrize("overrides,expected", [
    ({}, ("True", "UpgradeSucceeded")),
    ({"helm_reason": ""}, ("True", "Deployed")),
    ({"helm_reason": "UpgradeFailed", "helm_message": "timed out"}, ("False", "UpgradeFailed")),
    ({"release": deployed(4, "pending-upgrade"), "helm_reason": ""}, ("False", "PendingUpgrade")),
    ({"release": deployed(2, "failed"), "helm_reason": ""}, ("False", "Failed")),
    ({"release": None, "helm_reason": "Uninstalled", "enabled": False}, ("False", "Uninstalled")),
    ({"release": None, "helm_reason": ""}, ("False", "NotInstalled")),
    ({"has_chart": False, "release": None}, ("True", "NoChart")),
])
def test_helm_released(overrides: dict[str, Any], expected: tuple[str, str]) -> None:
    cond = conds(build_module_status(state(**overrides), None, NOW))["HelmReleased"]
    assert (cond["status"], cond["reason"]) == expected


def test_transition_time_kept_while_status_unchanged() -> None:
    first = build_module_status(state(reconciling=True), None, NOW)
    second = build_module_status(state(), first, LATER)
    by_type = conds(second)
    assert by_type["Ready"]["lastTransitionTime"] == "2025-03-01T12:05:00Z"   # Unknown -> True
    assert by_type["Enabled"]["lastTransitionTime"] == "2025-03-01T12:00:00Z"  # True -> True
    # Same inputs later: identical output, so no write is needed.
    third = build_module_status(state(), second, LATER + timedelta(hours=1))
    assert third == second
    assert not status_changed(second, third)


def test_reason_change_alone_keeps_transition_time() -> None:
    first = build_module_status(state(helm_reason="InstallSucceeded"), None, NOW)
    second = build_module_status(state(helm_reason="UpgradeSucceeded"), first, LATER)
    helm = conds(second)["HelmReleased"]
    assert helm["reason"] == "UpgradeSucceeded"
    assert helm["lastTransitionTime"] == "2025-03-01T12:00:00Z"
    assert status_changed(first, second)


def test_status_changed_is_semantic() -> None:
    status = build_module_status(state(hooks={"a": ok_hook("a"), "b": ok_hook("b")}), None, NOW)
    reordered = dict(status, conditions=list(reversed(status["conditions"])),
                     hooks=list(reversed(status["hooks"])))
    assert not status_changed(status, reordered)
    assert status_changed(None, status)
    assert status_changed(status, dict(status, message="other"))
    bumped = build_module_status(state(generation=4), status, NOW)
    assert status_changed(status, bumped)


def test_naive_now_is_taken_as_utc() -> None:
    status = build_module_status(state(), None, datetime(2025, 3, 1, 12, 0, 0))
    assert conds(status)["Ready"]["lastTransitionTime"] == "2025-03-01T12:00:00Z"


def test_long_multiline_error_is_bounded_and_keeps_its_last_line() -> None:
    error = "x" * 2000 + "\nsecond line"
    status = build_module_status(state(last_error=Failure("HookFailed", error),
                                       consecutive_failures=1), None, NOW)
    assert len(status["message"]) == 1024 and "…" in status["message"]
    assert status["message"].endswith("x\nsecond line (failed once; retrying with backoff)")
    ready = conds(status)["Ready"]["message"]
    assert len(ready) == 1024 and ready.endswith("x\nsecond line")


def test_a_binding_that_cannot_be_set_up_shows_in_the_hook_entry() -> None:
    hook = HookState("hooks/watch.sh", ("widgets",))
    hook.binding_problems["widgets"] = 'kind "Widget" is not served by the API'
    assert hook_entry(hook)["message"] == 'binding widgets: kind "Widget" is not served by the API'
    hook.message = "exit status 1"
    assert hook_entry(hook)["message"] == (
        'exit status 1; binding widgets: kind "Widget" is not served by the API')
    hook.binding_problems.clear()
    assert hook_entry(hook)["message"] == "exit status 1"


def test_a_newer_generation_waiting_for_its_run_is_never_ready() -> None:
    """Generation 4 was seen while the run of generation 3's snapshot went on: that run's
    success is not generation 4's. Ready is not True, Reconciling is, every condition says
    which generation it is true for, and observedGeneration stays the snapshot's."""
    status = build_module_status(state(generation=4), None, NOW)
    by_type = conds(status)
    assert status["observedGeneration"] == 3
    assert (by_type["Ready"]["status"], by_type["Ready"]["observedGeneration"]) == ("Unknown", 4)
    assert (by_type["Reconciling"]["status"], by_type["Reconciling"]["observedGeneration"]) \
        == ("True", 4)
    assert by_type["SettingsValid"]["observedGeneration"] == 4, "decided when the spec is seen"
    assert by_type["HelmReleased"]["observedGeneration"] == 3, "the last run's snapshot"
    assert by_type["HooksSucceeded"]["observedGeneration"] == 3
    assert kstatus.compute(obj(status, generation=4)).status == "InProgress"
    assert kstatus.condition_met(obj(status, generation=4), "Ready") is False
    done = build_module_status(state(generation=4, observed_generation=4, applied_generation=4,
                                     run_generation=4), status, LATER)
    assert conds(done)["Ready"]["status"] == "True"
    assert {c["observedGeneration"] for c in done["conditions"]} == {4}
