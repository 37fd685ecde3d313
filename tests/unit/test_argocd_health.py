"""The Argo CD health check (`deploy/argocd/health.lua`), run with Lua through `lupa` (`argocd_lua`).

Every case of the Argo CD test layout (`deploy/argocd/addon-operator.io/<Kind>/health_test.yaml`)
is run the way Argo CD runs a health script: Lua 5.1, `obj` as a global, only base functions
(no string library). Statuses built by the operator's own status builders are read back as well, the
`argocd-cm` snippet in docs/gitops.md must carry the exact script, and the GitOps examples
must be valid YAML.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from addon_operator.helm.release import ReleaseInfo
from addon_operator.status import (
    Failure, GlobalState, ModuleCounts, ModuleState, build_global_status, build_module_status,
)
from argocd_lua import SCRIPT, Health

ROOT = Path(__file__).resolve().parents[2]
ARGOCD = ROOT / "deploy" / "argocd"
KINDS = ("Module", "GlobalConfig")
GROUP = "addon-operator.io"
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def health() -> Health:
    return Health(SCRIPT.read_text(encoding="utf-8"))


def _cases(kind: str) -> list[dict[str, Any]]:
    return yaml.safe_load((ARGOCD / GROUP / kind / "health_test.yaml").read_text())["tests"]


ALL_CASES = [(kind, case) for kind in KINDS for case in _cases(kind)]


@pytest.mark.parametrize(
    ("kind", "case"), ALL_CASES, ids=[f"{k}/{c['inputPath']}" for k, c in ALL_CASES]
)
def test_health_test_case(health: Health, kind: str, case: dict[str, Any]) -> None:
    obj = yaml.safe_load((ARGOCD / GROUP / kind / case["inputPath"]).read_text())
    assert obj["kind"] == kind
    assert health(obj) == case["healthStatus"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_case_file_exists_and_every_testdata_file_is_a_case(kind: str) -> None:
    folder = ARGOCD / GROUP / kind
    paths = [case["inputPath"] for case in _cases(kind)]
    assert [p for p in paths if not (folder / p).is_file()] == []
    assert sorted(paths) == sorted(f"testdata/{p.name}" for p in (folder / "testdata").glob("*.yaml"))


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_ships_the_one_script(kind: str) -> None:
    assert (ARGOCD / GROUP / kind / "health.lua").read_text() == SCRIPT.read_text()


def test_cases_cover_every_health_status_a_script_can_return() -> None:
    """Each health status Argo CD assigns itself from a script appears in the cases."""
    seen = {case["healthStatus"]["status"] for _, case in ALL_CASES}
    assert seen == {"Healthy", "Progressing", "Degraded", "Suspended"}


def _module(**changes: Any) -> dict[str, Any]:
    release = ReleaseInfo("echo-server", "addon-operator", 2, "deployed", "echo-server", "0.1.0")
    fields: dict[str, Any] = {
        "name": "echo-server", "generation": 4, "observed_generation": 4,
        "applied_generation": 4, "enabled": True, "settings_problems": [],
        "release": release,
    }
    fields.update(changes)
    status = build_module_status(ModuleState(**fields), None, NOW)
    return {"kind": "Module", "metadata": {"name": fields["name"], "generation": 4}, "status": status}


MODULE_STATES = {
    "ready": ({}, "Healthy"),
    "disabled": ({"enabled": False, "release": None}, "Healthy"),
    "enablement-undecided": ({"enabled": None}, "Progressing"),
    "first-run-due": ({"release": None}, "Progressing"),
    "release-pending-upgrade": (
        {"release": ReleaseInfo("echo-server", "ns", 3, "pending-upgrade", "echo-server", "0.1.0")},
        "Progressing",
    ),
    "running": ({"reconciling": True}, "Progressing"),
    "retrying": ({"last_error": Failure("HelmFailed", "boom"), "consecutive_failures": 1}, "Progressing"),
    "retries-exhausted": (
        {"last_error": Failure("HookFailed", "boom"), "consecutive_failures": 5, "stalled_after": 5},
        "Degraded",
    ),
    "invalid-settings": ({"settings_problems": ["spec.settings.replicas: bad"]}, "Degraded"),
    "suspended": ({"suspended": True}, "Suspended"),
    "unknown-module": ({"module_known": False, "release": None}, "Degraded"),
}


@pytest.mark.parametrize("changes,expected", MODULE_STATES.values(), ids=list(MODULE_STATES))
def test_module_statuses_built_by_the_operator(health: Health, changes: dict, expected: str) -> None:
    obj = _module(**changes)
    result = health(obj)
    assert result == {"status": expected, "message": obj["status"]["message"]}


def test_a_spec_change_not_yet_observed_is_progressing(health: Health) -> None:
    obj = _module()
    obj["metadata"]["generation"] = 5
    assert health(obj) == {
        "status": "Progressing",
        "message": "Waiting for addon-operator to observe generation 5 (the status is for generation 4)",
    }


GLOBAL_STATES = {
    "converged": ({"converged": True, "modules": ModuleCounts(3, 2, 2, 0)}, "Healthy"),
    "first-converge-due": ({}, "Progressing"),
    "converging": ({"converged": True, "reconciling": True}, "Progressing"),
    "hook-retrying": ({"last_error": Failure("HookFailed", "boom"), "consecutive_failures": 1}, "Progressing"),
    "invalid-settings": ({"settings_problems": ["spec.settings.domain: bad"]}, "Degraded"),
}


@pytest.mark.parametrize("changes,expected", GLOBAL_STATES.values(), ids=list(GLOBAL_STATES))
def test_global_statuses_built_by_the_operator(health: Health, changes: dict, expected: str) -> None:
    state = GlobalState(**{"generation": 1, "settings_problems": [], **changes})
    status = build_global_status(state, None, NOW)
    obj = {"kind": "GlobalConfig", "metadata": {"name": "global", "generation": 1}, "status": status}
    assert health(obj) == {"status": expected, "message": status["message"]}


def argocd_cm_snippet(script: str) -> str:
    """The `argocd-cm` manifest docs/gitops.md shows: the script under both health keys."""
    body = "".join(f"    {line}".rstrip() + "\n" for line in script.splitlines())
    keys = "".join(f"  resource.customizations.health.{GROUP}_{kind}: |\n{body}" for kind in KINDS)
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\n"
        "  labels:\n    app.kubernetes.io/part-of: argocd\ndata:\n" + keys
    )


def test_gitops_doc_carries_the_exact_script() -> None:
    script = SCRIPT.read_text()
    snippet = argocd_cm_snippet(script)
    assert f"```yaml\n{snippet}```" in (ROOT / "docs" / "gitops.md").read_text()
    data = yaml.safe_load(snippet)["data"]
    assert data == {f"resource.customizations.health.{GROUP}_{kind}": script for kind in KINDS}


def test_gitops_examples_are_valid_yaml() -> None:
    examples = ROOT / "deploy" / "examples"
    app = list(yaml.safe_load_all((examples / "argocd-application.yaml").read_text()))
    by_kind = {doc["kind"]: doc for doc in app}
    allowed = by_kind["AppProject"]["spec"]["clusterResourceWhitelist"]
    assert {"group": GROUP, "kind": "Module"} in allowed and {"group": GROUP, "kind": "GlobalConfig"} in allowed
    assert by_kind["Application"]["spec"]["project"] == by_kind["AppProject"]["metadata"]["name"]
    flux = {doc["kind"]: doc for doc in yaml.safe_load_all((examples / "flux-kustomization.yaml").read_text())}
    assert flux["Kustomization"]["spec"]["wait"] is True
    assert flux["Kustomization"]["spec"]["sourceRef"]["name"] == flux["GitRepository"]["metadata"]["name"]
