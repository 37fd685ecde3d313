"""The sandbox driven by the pinned helm (v4) with default flags: install, upgrade, history,
status, list, rollback, uninstall — checking the release Secrets and the objects stored."""

from __future__ import annotations

import base64
import gzip
import json
import shutil
from pathlib import Path

import pytest

from addon_operator.runner import Completed, run
from kube_sandbox import SandboxServer

CHART = Path(__file__).resolve().parent / "testdata" / "chart"


@pytest.fixture
def helm(fresh_sandbox: SandboxServer, tmp_path: Path):
    env = {
        "PATH": str(Path(shutil.which("helm") or "helm").parent) + ":/usr/bin:/bin",
        "HOME": str(tmp_path),
        "KUBECONFIG": str(fresh_sandbox.kubeconfig_path),
        "HELM_CACHE_HOME": str(tmp_path / "cache"),
        "HELM_CONFIG_HOME": str(tmp_path / "config"),
        "HELM_DATA_HOME": str(tmp_path / "data"),
    }

    def invoke(*args: str) -> Completed:
        result = run(["helm", *args], env=env, timeout=60)
        assert result.ok, f"helm {' '.join(args)} failed: {result.stderr}"
        return result

    return invoke


def release_secrets(server: SandboxServer) -> dict[int, dict]:
    secrets = server.store.list(("", "secrets"), "default")
    return {int(s["metadata"]["labels"]["version"]): s for s in secrets
            if (s["metadata"].get("labels") or {}).get("owner") == "helm"}


def decoded_release(secret: dict) -> dict:
    raw = base64.b64decode(base64.b64decode(secret["data"]["release"]))
    return json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)


def stored(server: SandboxServer, group: str, plural: str, name: str) -> dict | None:
    return server.store.get((group, plural), "default", name)


def test_helm_release_lifecycle(helm, fresh_sandbox: SandboxServer) -> None:
    helm("upgrade", "--install", "demo", str(CHART))
    first = release_secrets(fresh_sandbox)[1]
    assert first["type"] == "helm.sh/release.v1"
    assert {k: first["metadata"]["labels"][k] for k in ("owner", "name", "status", "version")} == {
        "owner": "helm", "name": "demo", "status": "deployed", "version": "1"}
    assert decoded_release(first)["name"] == "demo"
    deployment = stored(fresh_sandbox, "apps", "deployments", "demo-web")
    assert deployment is not None and deployment["spec"]["replicas"] == 1
    assert deployment["metadata"]["annotations"]["meta.helm.sh/release-name"] == "demo"
    assert stored(fresh_sandbox, "", "services", "demo-web")["spec"]["ports"][0]["port"] == 80
    assert stored(fresh_sandbox, "", "configmaps", "demo-config")["data"] == {"message": "hello"}
    assert stored(fresh_sandbox, "", "secrets", "demo-secret")["data"] == {"token": base64.b64encode(b"hello").decode()}

    helm("upgrade", "--install", "demo", str(CHART), "--set", "replicas=3,message=bye")
    secrets = release_secrets(fresh_sandbox)
    assert secrets[1]["metadata"]["labels"]["status"] == "superseded"
    assert secrets[2]["metadata"]["labels"]["status"] == "deployed"
    deployment = stored(fresh_sandbox, "apps", "deployments", "demo-web")
    assert deployment["spec"]["replicas"] == 3 and deployment["metadata"]["generation"] == 2
    assert stored(fresh_sandbox, "", "configmaps", "demo-config")["data"] == {"message": "bye"}

    history = json.loads(helm("history", "demo", "-o", "json").stdout)
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "deployed")]
    status = json.loads(helm("status", "demo", "-o", "json").stdout)
    assert status["version"] == 2 and status["info"]["status"] == "deployed"
    listed = json.loads(helm("list", "-o", "json").stdout)
    assert [(r["name"], r["revision"], r["status"]) for r in listed] == [("demo", "2", "deployed")]

    helm("rollback", "demo", "1")
    assert release_secrets(fresh_sandbox)[3]["metadata"]["labels"]["status"] == "deployed"
    assert stored(fresh_sandbox, "apps", "deployments", "demo-web")["spec"]["replicas"] == 1
    assert stored(fresh_sandbox, "", "configmaps", "demo-config")["data"] == {"message": "hello"}

    helm("uninstall", "demo")
    assert release_secrets(fresh_sandbox) == {}
    for group, plural, name in (("apps", "deployments", "demo-web"), ("", "services", "demo-web"),
                                ("", "configmaps", "demo-config"), ("", "secrets", "demo-secret")):
        assert stored(fresh_sandbox, group, plural, name) is None, f"{plural}/{name} survived uninstall"
