"""What a failure says and what a hook leaves behind, on the real operator with the modules in
`testdata/diagnostics`: a chart with a template error puts helm's whole error (the position and
the cause, not only its first line) in `status.message` and the `Ready` condition; a hook that
fails after writing many lines to stderr shows its last lines there; a hook killed by its
timeout shows its stderr, not a dangling `stderr:`. A hook's background process does not
survive the hook, whether the hook exits or times out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from e2e_support import Cluster, OperatorHandle, condition
from processes import gone_within

MODULES = Path(__file__).parent / "testdata" / "diagnostics"
HOOK_TIMEOUT = "3"

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox_only(
    reason="the hooks write their children's pids into a local directory")]


def _operator(cluster: Cluster, pids: Path) -> OperatorHandle:
    pids.mkdir()
    operator = cluster.operator(modules_dir=MODULES, global_hooks_dir=None,
                                E2E_PID_DIR=str(pids),
                                ADDON_OPERATOR_HOOK_TIMEOUT_SECONDS=HOOK_TIMEOUT)
    operator.wait_ready()
    return operator


def _failed(cluster: Cluster, name: str) -> dict[str, Any]:
    cluster.wait(f"{name} Failed",
                 lambda: cluster.module(name)["status"]["phase"] == "Failed")
    return cluster.module(name)


def _pid(cluster: Cluster, path: Path) -> int:
    cluster.wait(f"{path.name} written", path.exists)
    return int(path.read_text())


def test_status_messages_carry_the_error_text(cluster: Cluster, tmp_path: Path) -> None:
    _operator(cluster, tmp_path / "pids")

    broken = _failed(cluster, "broken-chart")
    message = broken["status"]["message"]
    assert message.startswith("helm template broken-chart failed: Error: ")
    assert "broken-chart/templates/cm.yaml:6:" in message, "the position, from the first line"
    assert "nil pointer evaluating interface {}.deep" in message, "the cause, from a later line"
    ready = condition(broken, "Ready")
    assert ready["reason"] == "HelmFailed"
    assert "nil pointer evaluating interface {}.deep" in ready["message"]
    events = cluster.core.list_namespaced_event(cluster.namespace).items
    assert any(e.involved_object.name == "broken-chart" and e.reason == "HelmFailed"
               and "nil pointer evaluating interface {}.deep" in e.message for e in events)

    noisy = _failed(cluster, "noisy-hook")
    message = noisy["status"]["message"]
    assert message.startswith("hook hooks/check.sh (beforeHelm) failed: ")
    assert "noisy step 11 of 12: fine\n" in message
    assert "noisy step 12 of 12: the database refused the connection" in message
    assert "the database refused the connection" in condition(noisy, "Ready")["message"]

    slow = _failed(cluster, "slow-hook")
    message = slow["status"]["message"]
    assert (f"hook timed out after {HOOK_TIMEOUT} s and was killed; "
            "stderr:\nwaiting for the database (failed") in message
    assert condition(slow, "Ready")["message"].endswith("stderr:\nwaiting for the database")


def test_a_hooks_background_process_does_not_survive_the_hook(
        cluster: Cluster, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    _operator(cluster, pids)
    cluster.wait("background Ready",
                 lambda: cluster.module("background")["status"]["phase"] == "Ready")
    child = _pid(cluster, pids / "background-child.pid")
    assert gone_within(child, 20), "the background process of a hook that exited lives on"

    timed_out = _pid(cluster, pids / "slow-child.pid")
    assert gone_within(timed_out, 20), "the background process of a timed-out hook lives on"
