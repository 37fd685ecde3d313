"""Starting and stopping: loopback-only binding, the kubeconfig, persisted state across a restart,
CRDs installed at start, and the `python -m kube_sandbox` command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config

from addon_operator.runner import run
from kube_sandbox import SandboxServer

ROOT = Path(__file__).resolve().parents[2]


def test_refuses_non_loopback_addresses() -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        SandboxServer("0.0.0.0")


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with SandboxServer(kubeconfig_path=tmp_path / "kc", state_path=state, crd_dirs=[ROOT / "crds"]) as first:
        api = config.new_client_from_config(config_file=str(tmp_path / "kc"))
        client.CoreV1Api(api).create_namespaced_config_map("default", {"metadata": {"name": "kept"}, "data": {"a": "b"}})
        client.CustomObjectsApi(api).create_cluster_custom_object(
            "addon-operator.io", "v1alpha1", "modules",
            {"apiVersion": "addon-operator.io/v1alpha1", "kind": "Module", "metadata": {"name": "m"}, "spec": {}})
        rv_before = first.store.resource_version
    with SandboxServer(kubeconfig_path=tmp_path / "kc", state_path=state) as second:
        api = config.new_client_from_config(config_file=str(tmp_path / "kc"))
        assert client.CoreV1Api(api).read_namespaced_config_map("kept", "default").data == {"a": "b"}
        module = client.CustomObjectsApi(api).get_cluster_custom_object("addon-operator.io", "v1alpha1", "modules", "m")
        assert module["metadata"]["name"] == "m"
        assert second.store.resource_version == rv_before
        created = client.CoreV1Api(api).create_namespaced_config_map("default", {"metadata": {"name": "new"}})
        assert int(created.metadata.resource_version) == rv_before + 1


def test_command_writes_kubeconfig_and_state(tmp_path: Path) -> None:
    kubeconfig, state = tmp_path / "kc", tmp_path / "state.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "operator")}
    result = run([sys.executable, "-m", "kube_sandbox", "--kubeconfig", str(kubeconfig), "--state", str(state),
                  "--crds", str(ROOT / "crds")], env=env, timeout=2)
    assert result.timed_out, result.stderr
    assert "listening on http://127.0.0.1:" in result.stdout
    server_url = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    assert server_url in result.stdout
    names = {entry["object"]["metadata"]["name"] for entry in yaml.safe_load(state.read_text())["objects"]}
    assert {"modules.addon-operator.io", "globalconfigs.addon-operator.io", "default"} <= names


def test_command_refuses_remote_host() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "operator")}
    result = run([sys.executable, "-m", "kube_sandbox", "--host", "0.0.0.0"], env=env, timeout=20)
    assert result.exit_code == 2 and "allow_remote" in result.stderr
