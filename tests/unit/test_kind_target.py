"""The pure parts of the kind e2e target (`tests/e2e/kind_target.py`), checked without Docker
or kind: kind-config.yaml, the skip reasons, the kustomize overlay (built for real with the pinned kubectl), the
command lines, the operator container's args, env and patch against `deploy/deployment.yaml`,
reading pod objects, and the `make e2e-kind` target."""

from __future__ import annotations

import json
import re
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


def test_kind_cluster_is_one_control_plane_pinned_to_a_node_image_of_the_minimum_kind() -> None:
    text = (ROOT / "kind-config.yaml").read_text()
    config = yaml.safe_load(text)
    assert config["kind"] == "Cluster" and config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    [node] = config["nodes"]
    assert node["role"] == "control-plane"
    image = re.fullmatch(r"kindest/node:v1\.(\d+)\.\d+@sha256:[0-9a-f]{64}", node["image"])
    assert image, f"pin the node image by tag and digest, got {node['image']!r}"
    kubectl = re.search(r"kubectl \(v1\.(\d+)\.", (ROOT / "scripts/install-tools.sh").read_text())
    assert kubectl and abs(int(image.group(1)) - int(kubectl.group(1))) <= 1, \
        "kubectl supports one minor version of skew from the API server"
    release = "v" + ".".join(str(part) for part in kind.MIN_KIND)
    assert f"kind {release}" in text, f"kind-config.yaml must name the kind release of its image ({release})"


def test_a_kind_older_than_the_node_images_release_is_named_in_the_skip_reason() -> None:
    assert kind.kind_too_old("kind v0.31.0 go1.25.5 linux/amd64") is None
    assert kind.kind_too_old("kind v0.32.0-alpha.12+0123456789abcd go1.26.0 darwin/arm64") is None
    assert kind.kind_too_old("kind v1.0.0 go1.27 linux/amd64") is None
    assert kind.kind_too_old("kind v0.30.0 go1.24.6 linux/amd64") == (
        "kind target needs kind v0.31.0 or newer for the node image of kind-config.yaml: "
        "found v0.30.0")
    assert kind.kind_too_old("kind v0.9.0 go1.15 linux/amd64") is not None, "compared as numbers"
    assert kind.kind_too_old("something else") is None, "unreadable: kind itself judges"


def test_command_lines() -> None:
    config = ROOT / "kind-config.yaml"
    kubeconfig = Path("/w/kubeconfig")
    assert kind.kind_version() == ["kind", "version"]
    assert kind.create_cluster(config, kubeconfig) == [
        "kind", "create", "cluster", "--name", "addon-operator-e2e", "--config", str(config),
        "--kubeconfig", "/w/kubeconfig", "--wait", "120s"]
    assert kind.build_image(ROOT) == ["docker", "build", "--platform", "linux/amd64", "-t",
                                      "addon-operator:e2e", str(ROOT)]
    assert kind.load_image() == ["kind", "load", "docker-image", "addon-operator:e2e",
                                 "--name", "addon-operator-e2e"]
    assert kind.get_kubeconfig() == ["kind", "get", "kubeconfig", "--name", "addon-operator-e2e"]
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
    assert kind.delete_cluster(kubeconfig) == ["kind", "delete", "cluster", "--name", "addon-operator-e2e",
                                               "--kubeconfig", "/w/kubeconfig"]
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
