"""Failure isolation, Helm edge cases and hook outputs on the test modules in `testdata/modules`:
a failing hook marks only its module Failed and is retried with backoff while a heavier module
converges; after `ADDON_OPERATOR_STALL_AFTER_FAILURES` failures in a row it is Stalled (kstatus
Failed), still retried, and recovers when fixed; an `afterHelm` values patch triggers exactly one
more run; a release left in `pending-upgrade` is recovered; hooks' Kubernetes operations and
metrics are applied. Bad settings stop `addon-operator run` with one line, never a traceback."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

import kstatus
from e2e_support import NAMESPACE, ROOT, Cluster, condition, hook, python_env

MODULES = Path(__file__).parent / "testdata" / "modules"

pytestmark = pytest.mark.e2e


@pytest.fixture
def running(cluster: Cluster) -> Cluster:
    cluster.operator(modules_dir=MODULES, global_hooks_dir=None).wait_ready()
    return cluster


def test_failing_hook_is_isolated_and_retried(running: Cluster) -> None:
    cluster = running
    cluster.wait("heavy Ready", lambda: cluster.module("heavy")["status"]["phase"] == "Ready")
    assert cluster.release_revisions("heavy") == [1]
    cluster.wait("flaky retried", lambda: hook(cluster.module("flaky"), "hooks/check.sh")["failures"] >= 3)
    flaky = cluster.module("flaky")
    assert flaky["status"]["phase"] == "Failed"
    ready = condition(flaky, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "HookFailed")
    assert "boom: the flaky module is not healthy" in ready["message"]
    entry = hook(flaky, "hooks/check.sh")
    assert entry["lastResult"] == "Failed" and "boom" in entry["message"]
    assert condition(flaky, "HooksSucceeded")["status"] == "False"
    assert cluster.release_revisions("flaky") == [], "Helm does not run after a failed beforeHelm"
    assert "HookFailed" in cluster.kubectl("describe", "module", "flaky")
    counts = cluster.global_config()["status"]["modules"]
    assert counts["failed"] == 1 and counts["enabled"] == 3

    cluster.patch_module("flaky", {"settings": {"healthy": True}})
    cluster.wait("flaky recovered", lambda: cluster.module("flaky")["status"]["phase"] == "Ready")
    assert cluster.release_revisions("flaky") == [1]
    assert all(c["type"] not in ("Stalled", "Reconciling")
               for c in cluster.module("flaky")["status"]["conditions"])


def test_a_module_failing_repeatedly_stalls_keeps_being_retried_and_recovers(
        cluster: Cluster) -> None:
    cluster.operator(modules_dir=MODULES, global_hooks_dir=None,
                     ADDON_OPERATOR_STALL_AFTER_FAILURES="2",
                     ADDON_OPERATOR_RETRY_INITIAL_DELAY_SECONDS="1",
                     ADDON_OPERATOR_RETRY_MAX_DELAY_SECONDS="2").wait_ready()
    cluster.wait("flaky Stalled",
                 lambda: condition(cluster.module("flaky"), "Stalled")["status"] == "True")
    flaky = cluster.module("flaky")
    stalled = condition(flaky, "Stalled")
    assert stalled["reason"] == "RetriesExhausted"
    assert stalled["message"] == ("failed 2 times in a row; still retried, slowly: hook "
                                  "hooks/check.sh (beforeHelm) failed: boom: the flaky module "
                                  "is not healthy")
    assert flaky["status"]["phase"] == "Failed"
    assert kstatus.compute(flaky).status == kstatus.Status.FAILED
    assert all(c["type"] != "Reconciling" for c in flaky["status"]["conditions"])
    cluster.wait("flaky still retried", lambda: condition(cluster.module("flaky"), "Stalled")
                 ["message"].startswith("failed 3 times in a row"))

    cluster.patch_module("flaky", {"settings": {"healthy": True}})
    cluster.wait("flaky recovered", lambda: cluster.module("flaky")["status"]["phase"] == "Ready")
    flaky = cluster.module("flaky")
    assert kstatus.compute(flaky).status == kstatus.Status.CURRENT
    assert all(c["type"] != "Stalled" for c in flaky["status"]["conditions"])
    assert cluster.release_revisions("flaky") == [1]


BAD_SETTINGS = {
    "LOG_TYPE": ("xml", "$LOG_TYPE='xml' is not one of: text, json, color"),
    "LOG_LEVEL": ("loud", "$LOG_LEVEL='loud' is not one of: debug, info, warn, warning, error"),
    "ADDON_OPERATOR_PROMETHEUS_METRICS_PREFIX": (
        "9-bad", "ADDON_OPERATOR_PROMETHEUS_METRICS_PREFIX='9-bad' is not a valid Prometheus "
        "metric name prefix (letters, digits, '_' and ':', not starting with a digit)"),
    "ADDON_OPERATOR_HA": ("maybe", "ADDON_OPERATOR_HA: expected true or false, got 'maybe'"),
    "ADDON_OPERATOR_STALL_AFTER_FAILURES": (
        "none", "$ADDON_OPERATOR_STALL_AFTER_FAILURES='none' is not an integer"),
}


def test_a_bad_setting_stops_run_with_one_line(tmp_path: Path) -> None:
    """One `addon-operator run` per bad setting (run at once: each start costs seconds)."""
    runs = {}
    for name, (value, _) in BAD_SETTINGS.items():
        env = python_env({name: value, "KUBECONFIG": str(tmp_path / "no-such-kubeconfig")})
        runs[name] = subprocess.Popen(
            [sys.executable, "-m", "addon_operator", "run", "--tmp-dir", str(tmp_path)],
            cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for name, proc in runs.items():
        _, stderr = proc.communicate(timeout=60)
        assert (proc.returncode, stderr) == \
            (1, f"addon-operator run: error: {BAD_SETTINGS[name][1]}\n"), name


def test_after_helm_patch_triggers_exactly_one_rerun(running: Cluster) -> None:
    cluster = running
    cluster.wait("after-helm revision 2", lambda: cluster.module("after-helm")["status"]
                 .get("release", {}).get("revision") == 2)
    cluster.wait("heavy Ready", lambda: cluster.module("heavy")["status"]["phase"] == "Ready")
    assert hook(cluster.module("after-helm"), "hooks/stamp.sh")["runs"] == 2
    assert cluster.release_revisions("after-helm") == [1, 2]


def _mark_pending(cluster: Cluster, release: str, revision: int) -> None:
    """Rewrite the stored release record as helm leaves it after a crash mid-upgrade."""
    name = f"sh.helm.release.v1.{release}.v{revision}"
    secret = cluster.core.read_namespaced_secret(name, NAMESPACE)
    body = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret.data["release"]))))
    body["info"]["status"] = "pending-upgrade"
    encoded = base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()
    patch = {"metadata": {"labels": {"status": "pending-upgrade"}},
             "data": {"release": base64.b64encode(encoded.encode()).decode()}}
    cluster.core.patch_namespaced_secret(name, NAMESPACE, patch)


def test_pending_upgrade_is_recovered(running: Cluster) -> None:
    cluster = running
    cluster.wait("heavy Ready", lambda: cluster.module("heavy")["status"]["phase"] == "Ready")
    cluster.patch_module("heavy", {"settings": {"size": "big"}})
    cluster.wait("heavy revision 2", lambda: cluster.module("heavy")["status"]["release"]["revision"] == 2)
    _mark_pending(cluster, "heavy", 2)
    cluster.patch_module("heavy", {"settings": {"size": "huge"}})
    cluster.wait("heavy recovered", lambda: condition(cluster.module("heavy"), "HelmReleased")["reason"]
                 == "Unlocked")
    status = cluster.module("heavy")["status"]
    assert status["release"]["status"] == "deployed" and status["phase"] == "Ready"
    assert cluster.release_revisions("heavy") == [1, 2]


def test_hook_kubernetes_patch_and_metrics_are_applied(running: Cluster) -> None:
    cluster = running
    cluster.wait("heavy Ready", lambda: cluster.module("heavy")["status"]["phase"] == "Ready")
    published = cluster.core.read_namespaced_config_map("heavy-published", NAMESPACE)
    assert published.data == {"size": "small"}
    cluster.patch_module("heavy", {"settings": {"size": "big"}})
    cluster.wait("ConfigMap updated", lambda: cluster.core.read_namespaced_config_map(
        "heavy-published", NAMESPACE).data == {"size": "big"})
    code, text = cluster.operators[0].http("/metrics/hooks")
    assert code == 200
    assert 'heavy_published_total{hook="hooks/publish.sh",module="heavy"}' in text
