"""How GitOps tools read the statuses the real operator writes: Argo CD's health check
(`deploy/argocd/health.lua`, run with Lua), kstatus (`tests/kstatus.py`, `compute`, what Flux
`wait: true` uses) and `kubectl wait --for=condition=Ready`.

The operator runs on modules written by the test, each driven into one situation: healthy,
progressing (a hook held on a file the test controls), degraded (invalid settings stall at
once; a failing hook is retried, then stalls after five failures), disabled (`spec.enabled:
false`), suspended (`spec.suspend: true` on a module that ran) and unknown (a Module object with
no module on disk).
The GlobalConfig is read healthy, then degraded by invalid global settings.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from argocd_lua import SCRIPT, Health
from e2e_support import GROUP, ROOT, VERSION, Cluster
from kstatus import Status, compute

pytestmark = [pytest.mark.e2e,
              pytest.mark.sandbox_only(reason="the test writes its own modules and holds a hook "
                                              "on a file of the test machine")]

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  replicas: {{{{ .Values.{key}.replicas | quote }}}}
"""
SETTINGS_SCHEMA = """type: object
properties:
  replicas:
    type: integer
    minimum: 1
    default: 1
"""
HELD_HOOK = """#!/usr/bin/env bash
# beforeHelm: waits as long as the file $HEALTH_HOLD exists.
if [[ ${1:-} == "--config" ]]; then
  echo '{"configVersion": "v1", "beforeHelm": 1}'
  exit 0
fi
while [[ -e $HEALTH_HOLD ]]; do sleep 0.1; done
"""
FAILING_HOOK = """#!/usr/bin/env bash
# beforeHelm: always fails.
if [[ ${1:-} == "--config" ]]; then
  echo '{"configVersion": "v1", "beforeHelm": 1}'
  exit 0
fi
echo "boom: failing on purpose" >&2
exit 1
"""
MODULES = {  # directory -> (values key, hook or None)
    "010-steady": ("steady", None),
    "020-held": ("held", HELD_HOOK),
    "030-failing": ("failing", FAILING_HOOK),
    "040-spare": ("spare", None),
    "050-paused": ("paused", None),
}
# Module objects that exist before the operator starts.
PRESET = {"spare": {"enabled": False}, "ghost": {}}


def write_modules(root: Path) -> Path:
    for directory, (key, hook) in MODULES.items():
        module = root / directory
        (module / "templates").mkdir(parents=True)
        (module / "openapi").mkdir()
        (module / "templates" / "cm.yaml").write_text(CONFIGMAP.format(name=key, key=key))
        (module / "openapi" / "config-values.yaml").write_text(SETTINGS_SCHEMA)
        if hook:
            (module / "hooks").mkdir()
            (module / "hooks" / "hook.sh").write_text(hook)
            (module / "hooks" / "hook.sh").chmod(0o755)
    flags = "".join(f"{key}Enabled: true\n" for key, _ in MODULES.values())
    (root / "values.yaml").write_text(f"global:\n  clusterName: health\n  domain: example.test\n{flags}")
    return root


@pytest.fixture(scope="module")
def health() -> Health:
    return Health(SCRIPT.read_text(encoding="utf-8"))


@pytest.fixture
def hold(tmp_path: Path) -> Path:
    return tmp_path / "hold"


@pytest.fixture
def running(cluster: Cluster, tmp_path: Path, hold: Path) -> Cluster:
    for name, spec in PRESET.items():
        cluster.custom.create_cluster_custom_object(GROUP, VERSION, "modules", {
            "apiVersion": f"{GROUP}/{VERSION}", "kind": "Module", "metadata": {"name": name}, "spec": spec})
    modules = write_modules(tmp_path / "modules")
    cluster.operator(modules_dir=modules, global_hooks_dir=ROOT / "global-hooks",
                     HEALTH_HOLD=str(hold)).wait_ready()
    return cluster


def settled(obj: dict[str, Any], phase: str) -> bool:
    status = obj.get("status", {})
    return status.get("observedGeneration") == obj["metadata"]["generation"] and status.get("phase") == phase


def readings(health: Health, obj: dict[str, Any]) -> tuple[str, Status]:
    """(Argo CD health, kstatus status) of one object."""
    return health(obj)["status"], compute(obj).status


def kubectl_wait_ready(cluster: Cluster, resource: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "--kubeconfig", str(cluster.kubeconfig), "--cache-dir",
                           str(cluster.tmp / "kube-cache"), "wait", resource, "--for=condition=Ready",
                           "--timeout=5s"], capture_output=True, text=True, timeout=60)


def test_module_statuses_of_real_runs(running: Cluster, health: Health, hold: Path) -> None:
    cluster = running
    for name, phase in (("steady", "Ready"), ("paused", "Ready"), ("spare", "Disabled"),
                        ("ghost", "Unknown")):
        cluster.wait(f"{name} {phase}", lambda n=name, p=phase: settled(cluster.module(n), p))
    cluster.patch_module("paused", {"suspend": True})
    cluster.wait("paused Suspended", lambda: settled(cluster.module("paused"), "Suspended"))

    expected = {
        "steady": ("Healthy", Status.CURRENT),
        "spare": ("Healthy", Status.CURRENT),
        "paused": ("Suspended", Status.CURRENT),
        "ghost": ("Degraded", Status.FAILED),
    }
    for name, reading in expected.items():
        assert readings(health, cluster.module(name)) == reading, name
    for name in ("steady", "spare"):
        done = kubectl_wait_ready(cluster, f"module/{name}")
        assert done.returncode == 0, f"kubectl wait module/{name}: {done.stderr}"
        assert "condition met" in done.stdout

    # A failing hook is retried with backoff: Progressing while retrying.
    cluster.wait("failing retried", lambda: cluster.module("failing")["status"].get("phase") == "Failed")
    failing = cluster.module("failing")
    assert not any(c["type"] == "Stalled" for c in failing["status"]["conditions"]), \
        "stalled before five failures"
    assert readings(health, failing) == ("Progressing", Status.IN_PROGRESS)

    # Progressing: a run held in its beforeHelm hook; Healthy again once released.
    hold.touch()
    cluster.patch_module("held", {"settings": {"replicas": 2}})
    cluster.wait("held reconciling", lambda: settled(cluster.module("held"), "Reconciling"))
    assert readings(health, cluster.module("held")) == ("Progressing", Status.IN_PROGRESS)
    hold.unlink()
    cluster.wait("held Ready", lambda: settled(cluster.module("held"), "Ready"))
    assert readings(health, cluster.module("held")) == ("Healthy", Status.CURRENT)

    # Degraded at once: invalid settings stall without a retry.
    cluster.patch_module("steady", {"settings": {"replicas": 0}})
    cluster.wait("steady Failed", lambda: settled(cluster.module("steady"), "Failed"))
    assert readings(health, cluster.module("steady")) == ("Degraded", Status.FAILED)
    assert "replicas" in health(cluster.module("steady"))["message"]

    # Degraded after the retries: the failing hook stalls after five failures in a row.
    cluster.wait("failing stalled", lambda: any(
        c["type"] == "Stalled" for c in cluster.module("failing")["status"]["conditions"]))
    assert readings(health, cluster.module("failing")) == ("Degraded", Status.FAILED)
    refused = kubectl_wait_ready(cluster, "module/failing")
    assert refused.returncode != 0 and "timed out" in refused.stderr


def test_global_config_statuses_of_real_runs(running: Cluster, health: Health) -> None:
    cluster = running
    cluster.wait("GlobalConfig Ready", lambda: settled(cluster.global_config(), "Ready"))
    assert readings(health, cluster.global_config()) == ("Healthy", Status.CURRENT)
    done = kubectl_wait_ready(cluster, "globalconfig/global")
    assert done.returncode == 0, f"kubectl wait globalconfig/global: {done.stderr}"

    cluster.patch_global({"settings": {"domain": "Not A Domain"}})
    cluster.wait("GlobalConfig Failed", lambda: settled(cluster.global_config(), "Failed"))
    obj = cluster.global_config()
    assert readings(health, obj) == ("Degraded", Status.FAILED)
    assert "domain" in health(obj)["message"]
