"""The pure parts of the kind e2e target (`tests/e2e/kind_target.py`), checked without Docker
or kind: the skip reason, the kustomize overlay (built for real with the pinned kubectl), the
command lines, the operator container's args, env and patch against `deploy/deployment.yaml`,
reading pod objects, and the `make e2e-kind` target."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from addon_operator.runner import run

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import kind_target as kind  # noqa: E402  (lives with the e2e tests it serves)


def test_missing_tools_are_named_in_the_skip_reason() -> None:
    present = {"kubectl", "helm"}
    reason = kind.tools_missing(lambda tool: f"/bin/{tool}" if tool in present else None)
    assert reason == "kind target needs docker, kind, kubectl, helm on PATH: docker, kind not found"
    assert kind.tools_missing(lambda tool: f"/bin/{tool}") is None


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """`kubectl kustomize` of the overlay written outside the repository, as the session does."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl not on PATH (make setup)")
    overlay = kind.write_overlay(tmp_path_factory.mktemp("kind") / "overlay", ROOT / "deploy")
    done = run(kind.build_overlay(overlay), timeout=60)
    assert done.ok, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def by_kind(docs: list[dict[str, Any]], kind_name: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind_name]


def test_overlay_refers_to_deploy_relatively(tmp_path: Path) -> None:
    overlay = kind.overlay(ROOT / "deploy", tmp_path / "overlay")
    assert not Path(overlay["resources"][0]).is_absolute()
    assert ((tmp_path / "overlay") / overlay["resources"][0]).resolve() == (ROOT / "deploy").resolve()


def test_overlay_installs_crds_and_operator_with_the_loaded_image(built: list[dict[str, Any]]) -> None:
    crds = {doc["metadata"]["name"] for doc in by_kind(built, "CustomResourceDefinition")}
    assert crds == set(kind.CRDS)
    (deployment,) = by_kind(built, "Deployment")
    assert deployment["metadata"]["namespace"] == kind.NAMESPACE
    assert deployment["metadata"]["name"] == kind.DEPLOYMENT
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["name"] == kind.CONTAINER
    assert (container["image"], container["imagePullPolicy"]) == (kind.IMAGE, "Never")
    assert deployment["spec"]["selector"]["matchLabels"] == dict([kind.POD_SELECTOR.split("=")])
    assert {p["containerPort"] for p in container["ports"]} == {kind.PORT}


def test_container_patch_replaces_paths_that_exist(built: list[dict[str, Any]]) -> None:
    (deployment,) = by_kind(built, "Deployment")
    patch = kind.container_patch(1, ["run"], [])
    for op in patch:
        node: Any = deployment
        for part in op["path"].strip("/").split("/"):
            node = node[int(part)] if isinstance(node, list) else node[part]
        assert op["op"] == "replace"
    assert [op["path"] for op in patch] == ["/spec/replicas", "/spec/template/spec/containers/0/args",
                                           "/spec/template/spec/containers/0/env"]


def test_container_env_keeps_the_pod_settings_and_adds_the_test_ones(built: list[dict[str, Any]]) -> None:
    (deployment,) = by_kind(built, "Deployment")
    base = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    env = kind.container_env(base, {"KUBECONFIG": "/tmp/k", "ADDON_OPERATOR_NAMESPACE": "addons",
                                    "ADDON_OPERATOR_HA": "true", "LOG_LEVEL": "info"})
    named = {e["name"]: e for e in env}
    assert [e["name"] for e in env][:len(base)] == [e["name"] for e in base], "replaced in place"
    assert "valueFrom" in named["ADDON_OPERATOR_NAMESPACE"], "the pod's namespace, not the sandbox's"
    assert "KUBECONFIG" not in named
    assert named["LOG_TYPE"]["value"] == "text" and named["LOG_LEVEL"]["value"] == "info"
    assert named["ADDON_OPERATOR_HA"]["value"] == "true"
    assert named["ADDON_OPERATOR_RETRY_INITIAL_DELAY_SECONDS"]["value"] == "1"
    assert len(named) == len(env), "no name twice"


def test_operator_args_map_the_example_dirs_to_the_image() -> None:
    assert kind.operator_args(ROOT, ROOT / "modules", ROOT / "global-hooks") == ["run"]
    assert kind.operator_args(ROOT, ROOT / "modules", None) == ["run", "--global-hooks-dir", ""]
    other = ROOT / "tests" / "e2e" / "testdata" / "modules"
    with pytest.raises(kind.NotOnKind, match=f"modules dir {re.escape(str(other))} is not baked in the image"):
        kind.operator_args(ROOT, other, ROOT / "global-hooks")
    with pytest.raises(kind.NotOnKind, match="global hooks dir .* is not baked in the image"):
        kind.operator_args(ROOT, ROOT / "modules", other)


def test_command_lines() -> None:
    config = ROOT / "kind-config.yaml"
    assert yaml.safe_load(config.read_text())["kind"] == "Cluster"
    assert kind.create_cluster(config) == ["kind", "create", "cluster", "--name", "addon-operator-e2e",
                                           "--config", str(config), "--wait", "120s"]
    assert kind.build_image(ROOT) == ["docker", "build", "--platform", "linux/amd64", "-t",
                                      "addon-operator:e2e", str(ROOT)]
    assert kind.load_image() == ["kind", "load", "docker-image", "addon-operator:e2e",
                                 "--name", "addon-operator-e2e"]
    assert kind.get_kubeconfig() == ["kind", "get", "kubeconfig", "--name", "addon-operator-e2e"]
    kubeconfig = Path("/w/kubeconfig")
    assert kind.apply_overlay(kubeconfig, Path("/w/overlay")) == [
        "kubectl", "--kubeconfig", "/w/kubeconfig", "apply", "-k", "/w/overlay"]
    assert kind.wait_crds(kubeconfig)[-2:] == ["crd/modules.addon-operator.io",
                                               "crd/globalconfigs.addon-operator.io"]
    assert kind.rollout_status(kubeconfig)[-3:] == ["status", "deployment/addon-operator", "--timeout=300s"]
    assert kind.uninstall_releases(kubeconfig, ["a", "b"])[-3:] == ["uninstall", "a", "b"]
    assert kind.scale_deployment(kubeconfig, 0)[-3:] == ["scale", "deployment/addon-operator", "--replicas=0"]
    patch = kind.container_patch(1, ["run"], [])
    assert kind.patch_deployment(kubeconfig, patch)[-5:] == [
        "patch", "deployment/addon-operator", "--type=json", "-p", json.dumps(patch)]
    assert kind.delete_objects(kubeconfig)[-4:] == ["delete", "modules,globalconfigs", "--all",
                                                    "--ignore-not-found"]
    assert kind.delete_cluster() == ["kind", "delete", "cluster", "--name", "addon-operator-e2e"]
    assert (ROOT / "Dockerfile").is_file()


def test_pod_proxy_path() -> None:
    assert kind.pod_proxy_path("addon-operator-7d9-x2", "/metrics/hooks") == \
        "/api/v1/namespaces/addon-operator/pods/addon-operator-7d9-x2:9650/proxy/metrics/hooks"


def pod(state: dict[str, Any], restarts: int = 0, name: str = "addon-operator") -> dict[str, Any]:
    return {"metadata": {"name": "op-1"}, "status": {"containerStatuses": [
        {"name": name, "state": state, "restartCount": restarts}]}}


def test_pod_readings() -> None:
    assert kind.terminated_exit_code(pod({"terminated": {"exitCode": 0}})) == 0
    assert kind.terminated_exit_code(pod({"running": {}})) is None
    assert kind.terminated_exit_code(pod({"terminated": {"exitCode": 1}}, name="sidecar")) is None
    assert kind.container_problem(pod({"running": {}})) is None
    assert kind.container_problem(pod({"waiting": {"reason": "ContainerCreating"}})) is None
    assert kind.container_problem(pod({"terminated": {"exitCode": 1}})) == \
        "the operator in pod op-1 exited with 1"
    assert kind.container_problem(pod({"running": {}}, restarts=2)) == \
        "the operator in pod op-1 restarted 2 time(s)"
    assert kind.container_problem(pod({"waiting": {"reason": "ErrImageNeverPull"}})) == \
        "the operator in pod op-1 cannot start: ErrImageNeverPull"


def test_make_e2e_kind_runs_the_e2e_tests_on_kind() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^e2e-kind: setup\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe is not None, "Makefile has no e2e-kind target"
    assert recipe.group(1).startswith("$(BIN)/python -m pytest -q tests/e2e --target=kind")
    assert "e2e-kind" in re.search(r"^\.PHONY:(.*)$", makefile, re.MULTILINE).group(1).split()
