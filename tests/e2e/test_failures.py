"""Failure isolation, Helm edge cases and hook outputs on the test modules in `testdata/modules`:
a failing hook marks only its module Failed and is retried with backoff while a heavier module
converges; an `afterHelm` values patch triggers exactly one more run; a release left in
`pending-upgrade` is recovered; hooks' Kubernetes operations and metrics are applied."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from e2e_support import NAMESPACE, Cluster, condition, hook

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
