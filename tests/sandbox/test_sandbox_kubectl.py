"""The sandbox driven by the pinned kubectl with default flags: applying the project's CRDs and
Module objects (client- and server-side), printer columns, YAML output, describe with Events,
wait for a condition, delete. Every step checks what the server stored."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from kubernetes import client

from addon_operator.runner import Completed, run
from kube_sandbox import SandboxServer

ROOT = Path(__file__).resolve().parents[2]
CRD_FILES = ("-f", str(ROOT / "crds" / "modules.addon-operator.io.yaml"),
             "-f", str(ROOT / "crds" / "globalconfigs.addon-operator.io.yaml"))
MODULES = ("addon-operator.io", "modules")


MODULE = """\
apiVersion: addon-operator.io/v1alpha1
kind: Module
metadata:
  name: cert-manager
spec:
  enabled: true
  settings:
    replicas: {replicas}
"""


@pytest.fixture
def kubectl(fresh_sandbox: SandboxServer, tmp_path: Path):
    def invoke(*args: str, stdin: str | None = None) -> Completed:
        argv = ["kubectl", "--kubeconfig", str(fresh_sandbox.kubeconfig_path), "--cache-dir", str(tmp_path / "cache"), *args]
        result = run(argv, stdin=stdin, timeout=60)
        assert result.ok, f"{' '.join(args)} failed: {result.stderr}"
        return result

    return invoke


def module(server: SandboxServer, name: str = "cert-manager") -> dict:
    stored = server.store.get(MODULES, "", name)
    assert stored is not None, f"module {name} is not stored"
    return stored


def test_apply_crds_and_modules(kubectl, fresh_sandbox: SandboxServer, tmp_path: Path) -> None:
    out = kubectl("apply", *CRD_FILES).stdout
    assert "modules.addon-operator.io created" in out
    kubectl("wait", "--for=condition=Established", "crd/modules.addon-operator.io", "--timeout=10s")
    manifest = tmp_path / "module.yaml"
    manifest.write_text(MODULE.format(replicas=2))
    assert "created" in kubectl("apply", "-f", str(manifest)).stdout
    assert "unchanged" in kubectl("apply", "-f", str(manifest)).stdout
    assert module(fresh_sandbox)["metadata"]["generation"] == 1
    manifest.write_text(MODULE.format(replicas=3))
    kubectl("apply", "-f", str(manifest))
    stored = module(fresh_sandbox)
    assert stored["spec"] == {"enabled": True, "settings": {"replicas": 3}}
    assert stored["metadata"]["generation"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in stored["metadata"]["annotations"]
    manifest.write_text(MODULE.format(replicas=4).replace("  enabled: true\n", ""))
    assert "serverside-applied" in kubectl("apply", "--server-side", "--force-conflicts", "-f", str(manifest)).stdout
    stored = module(fresh_sandbox)
    assert stored["spec"]["settings"] == {"replicas": 4}
    assert any(e["manager"] == "kubectl" and e["operation"] == "Apply" for e in stored["metadata"]["managedFields"])


def test_get_describe_wait_and_delete(kubectl, fresh_sandbox: SandboxServer, fresh_client: client.ApiClient) -> None:
    kubectl("apply", *CRD_FILES)
    kubectl("apply", "-f", "-", stdin=MODULE.format(replicas=1))
    api = client.CustomObjectsApi(fresh_client)
    uid = module(fresh_sandbox)["metadata"]["uid"]
    client.CoreV1Api(fresh_client).create_namespaced_event("default", {
        "metadata": {"name": "cert-manager.1"}, "reason": "HelmReleased", "message": "release cert-manager installed",
        "type": "Normal", "involvedObject": {"apiVersion": "addon-operator.io/v1alpha1", "kind": "Module",
                                             "name": "cert-manager", "uid": uid},
        "firstTimestamp": "2024-01-01T00:00:00Z", "lastTimestamp": "2024-01-01T00:00:00Z", "count": 1})

    def set_ready() -> None:
        time.sleep(0.5)
        api.patch_cluster_custom_object_status("addon-operator.io", "v1alpha1", "modules", "cert-manager", {"status": {
            "phase": "Ready", "message": "all good", "weight": 10, "release": {"revision": 3},
            "conditions": [{"type": t, "status": "True", "reason": "Test", "message": "", "lastTransitionTime": "2024-01-01T00:00:00Z"}
                           for t in ("Enabled", "Ready")]}})

    setter = threading.Thread(target=set_ready)
    setter.start()
    kubectl("wait", "--for=condition=Ready", "module/cert-manager", "--timeout=20s")
    setter.join()
    lines = kubectl("get", "modules").stdout.splitlines()
    assert lines[0].split() == ["NAME", "ENABLED", "READY", "PHASE", "REVISION", "AGE"]
    assert lines[1].split()[:5] == ["cert-manager", "True", "True", "Ready", "3"]
    wide = kubectl("get", "mod", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-3:] == ["MESSAGE", "WEIGHT", "SUSPENDED"]
    assert "all good" in wide[1] and " 10 " in wide[1]
    assert "module.addon-operator.io/cert-manager" in kubectl("get", "addons").stdout
    as_yaml = kubectl("get", "module", "cert-manager", "-o", "yaml").stdout
    assert "replicas: 1" in as_yaml and "phase: Ready" in as_yaml and "managedFields" not in as_yaml
    described = kubectl("describe", "module", "cert-manager").stdout
    assert "HelmReleased" in described and "release cert-manager installed" in described
    as_json = json.loads(kubectl("get", "modules", "-o", "json").stdout)
    assert [item["metadata"]["name"] for item in as_json["items"]] == ["cert-manager"]
    kubectl("delete", "module", "cert-manager")
    assert fresh_sandbox.store.get(MODULES, "", "cert-manager") is None


def test_builtin_kinds_with_client_side_apply(kubectl, fresh_sandbox: SandboxServer) -> None:
    deployment = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: web, image: "nginx:1", ports: [{containerPort: 80}]}
        - {name: side, image: "busybox:1"}
"""
    kubectl("apply", "-f", "-", stdin=deployment)
    kubectl("apply", "-f", "-", stdin=deployment.replace("nginx:1", "nginx:2").replace(
        '        - {name: side, image: "busybox:1"}\n', ""))
    stored = fresh_sandbox.store.get(("apps", "deployments"), "default", "web")
    assert stored is not None
    containers = stored["spec"]["template"]["spec"]["containers"]
    assert containers == [{"name": "web", "image": "nginx:2", "ports": [{"containerPort": 80}]}]
    assert stored["metadata"]["generation"] == 2
    table = kubectl("get", "deploy").stdout.splitlines()
    assert table[0].split()[:3] == ["NAME", "READY", "UP-TO-DATE"] and table[1].startswith("web")
    kubectl("delete", "deployment", "web")
    assert fresh_sandbox.store.get(("apps", "deployments"), "default", "web") is None
