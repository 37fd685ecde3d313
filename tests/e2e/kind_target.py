"""The pure parts of the kind e2e target: names, command lines, the kustomize overlay, the
operator container's args and env, and why a scenario cannot run on kind.

`kind_cluster.py` runs these commands and `conftest.py` decides what skips; both call this
module, and `tests/unit/test_kind_target.py` checks it without Docker or kind.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from e2e_support import OPERATOR_SETTINGS

CLUSTER_NAME = "addon-operator-e2e"
IMAGE = "addon-operator:e2e"
NAMESPACE = "addon-operator"            # deploy/namespace.yaml: the operator and its releases
DEPLOYMENT = "addon-operator"
CONTAINER = "addon-operator"
POD_SELECTOR = "app.kubernetes.io/name=addon-operator"
PORT = 9650
CRDS = ("modules.addon-operator.io", "globalconfigs.addon-operator.io")
TOOLS = ("docker", "kind", "kubectl", "helm")
# The node image in kind-config.yaml was published with kind v0.31.0; kind supports a node image
# with the release it was built for (older releases may not start it).
MIN_KIND = (0, 31, 0)

# The settings of every scenario's operator, and text logs as the local process writes them
# (the Deployment asks for JSON).
POD_SETTINGS = {**OPERATOR_SETTINGS, "LOG_TYPE": "text"}
# Settings of the sandbox's local process that the Deployment provides its own way.
LOCAL_ONLY_SETTINGS = frozenset({"KUBECONFIG", "ADDON_OPERATOR_NAMESPACE"})


class NotOnKind(Exception):
    """A scenario needs something the in-cluster operator cannot have; the message says what."""


def tools_missing(which: Callable[[str], str | None]) -> str | None:
    """The skip reason when a tool the kind target runs is not on PATH (None: all there)."""
    missing = [tool for tool in TOOLS if which(tool) is None]
    if not missing:
        return None
    return f"kind target needs {', '.join(TOOLS)} on PATH: {', '.join(missing)} not found"


def kind_too_old(version_output: str) -> str | None:
    """The skip reason when `kind version` names a release older than `MIN_KIND` (None: new
    enough, or a version this cannot read, which `kind create cluster` then judges)."""
    found = re.search(r"\bv(\d+)\.(\d+)\.(\d+)", version_output)
    if found is None or tuple(int(part) for part in found.groups()) >= MIN_KIND:
        return None
    wanted = ".".join(str(part) for part in MIN_KIND)
    return (f"kind target needs kind v{wanted} or newer for the node image of kind-config.yaml: "
            f"found {found.group(0)}")


def overlay(deploy_dir: Path, overlay_dir: Path) -> dict[str, Any]:
    """The kustomization in `overlay_dir` applied to the kind cluster: `deploy/` (CRDs included)
    with the image built here, never pulled (it only exists on the kind node, loaded by
    `kind load`). kustomize takes only relative paths to other kustomizations."""
    name, tag = IMAGE.split(":")
    pull_never = [{"op": "replace", "path": "/spec/template/spec/containers/0/imagePullPolicy",
                   "value": "Never"}]
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(deploy_dir.resolve(), overlay_dir.resolve())],
        "images": [{"name": "addon-operator", "newName": name, "newTag": tag}],
        "patches": [{"target": {"kind": "Deployment", "name": DEPLOYMENT},
                     "patch": yaml.safe_dump(pull_never, sort_keys=False)}],
    }


def write_overlay(directory: Path, deploy_dir: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(overlay(deploy_dir, directory), sort_keys=False)
    (directory / "kustomization.yaml").write_text(text)
    return directory


# ---- command lines, in the order the session runs them --------------------------------------

def kind_version() -> list[str]:
    return ["kind", "version"]


def list_clusters() -> list[str]:
    return ["kind", "get", "clusters"]


def create_cluster(config: Path, kubeconfig: Path) -> list[str]:
    """Create the cluster, writing its context to the session's own kubeconfig: the user's
    kubeconfig and current context are left alone."""
    return ["kind", "create", "cluster", "--name", CLUSTER_NAME, "--config", str(config),
            "--kubeconfig", str(kubeconfig), "--wait", "120s"]


def build_image(context: Path) -> list[str]:
    # The pinned helm and kubectl in the image are Linux x86-64 (Dockerfile, docs/install.md).
    return ["docker", "build", "--platform", "linux/amd64", "-t", IMAGE, str(context)]


def load_image() -> list[str]:
    return ["kind", "load", "docker-image", IMAGE, "--name", CLUSTER_NAME]


def get_kubeconfig() -> list[str]:
    return ["kind", "get", "kubeconfig", "--name", CLUSTER_NAME]


def build_overlay(overlay_dir: Path) -> list[str]:
    return ["kubectl", "kustomize", str(overlay_dir)]


def apply_overlay(kubeconfig: Path, overlay_dir: Path) -> list[str]:
    return ["kubectl", "--kubeconfig", str(kubeconfig), "apply", "-k", str(overlay_dir)]


def wait_crds(kubeconfig: Path) -> list[str]:
    return ["kubectl", "--kubeconfig", str(kubeconfig), "wait", "--for=condition=Established",
            "--timeout=60s", *(f"crd/{crd}" for crd in CRDS)]


def rollout_status(kubeconfig: Path) -> list[str]:
    return ["kubectl", "--kubeconfig", str(kubeconfig), "-n", NAMESPACE, "rollout", "status",
            f"deployment/{DEPLOYMENT}", "--timeout=300s"]


def patch_deployment(kubeconfig: Path, patch: list[dict[str, Any]]) -> list[str]:
    return ["kubectl", "--kubeconfig", str(kubeconfig), "-n", NAMESPACE, "patch",
            f"deployment/{DEPLOYMENT}", "--type=json", "-p", json.dumps(patch)]


def scale_deployment(kubeconfig: Path, replicas: int) -> list[str]:
    return ["kubectl", "--kubeconfig", str(kubeconfig), "-n", NAMESPACE, "scale",
            f"deployment/{DEPLOYMENT}", f"--replicas={replicas}"]


def delete_objects(kubeconfig: Path) -> list[str]:
    """Every Module and GlobalConfig object (no finalizers: gone at once)."""
    return ["kubectl", "--kubeconfig", str(kubeconfig), "delete", "modules,globalconfigs", "--all",
            "--ignore-not-found"]


def list_releases(kubeconfig: Path) -> list[str]:
    return ["helm", "--kubeconfig", str(kubeconfig), "-n", NAMESPACE, "list", "--all", "-q"]


def uninstall_releases(kubeconfig: Path, releases: list[str]) -> list[str]:
    return ["helm", "--kubeconfig", str(kubeconfig), "-n", NAMESPACE, "uninstall", *releases]


def delete_cluster(kubeconfig: Path) -> list[str]:
    return ["kind", "delete", "cluster", "--name", CLUSTER_NAME, "--kubeconfig", str(kubeconfig)]


# ---- the operator container -----------------------------------------------------------------

def operator_args(root: Path, modules_dir: Path, global_hooks_dir: Path | None) -> list[str]:
    """The container args for `cluster.operator(modules_dir, global_hooks_dir)`: the image has
    the example modules at /modules and the example global hooks at /global-hooks (its
    defaults); anything else is not in the image (NotOnKind)."""
    if Path(modules_dir).resolve() != (root / "modules").resolve():
        raise NotOnKind(f"modules dir {modules_dir} is not baked in the image "
                        "(it has the example modules only)")
    if global_hooks_dir is None:
        return ["run", "--global-hooks-dir", ""]
    if Path(global_hooks_dir).resolve() != (root / "global-hooks").resolve():
        raise NotOnKind(f"global hooks dir {global_hooks_dir} is not baked in the image "
                        "(it has the example global hooks only)")
    return ["run"]


def container_env(base: list[dict[str, Any]], settings: Mapping[str, str]) -> list[dict[str, Any]]:
    """The Deployment's env entries with `POD_SETTINGS` and `settings` on top: an entry of
    the same name is replaced in place, new names are appended; the sandbox-only settings are
    dropped (the pod has the in-cluster account and its own namespace)."""
    wanted = {k: v for k, v in {**POD_SETTINGS, **settings}.items() if k not in LOCAL_ONLY_SETTINGS}
    env = [{"name": e["name"], "value": wanted.pop(e["name"])} if e["name"] in wanted else e
           for e in base]
    return env + [{"name": name, "value": value} for name, value in wanted.items()]


def container_patch(replicas: int, args: list[str], env: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A JSON patch of the Deployment: replace (not merge) the args and env of the operator
    container, so one test's settings never leak into the next."""
    container = "/spec/template/spec/containers/0"
    return [{"op": "replace", "path": "/spec/replicas", "value": replicas},
            {"op": "replace", "path": f"{container}/args", "value": args},
            {"op": "replace", "path": f"{container}/env", "value": env}]


def pod_proxy_path(pod: str, path: str) -> str:
    """The API server's proxy to the operator's HTTP port in `pod` (a path starting with /)."""
    return f"/api/v1/namespaces/{NAMESPACE}/pods/{pod}:{PORT}/proxy{path}"


BROKEN_WAITING_REASONS = frozenset({"CrashLoopBackOff", "ErrImageNeverPull", "ErrImagePull",
                                    "ImagePullBackOff", "CreateContainerConfigError",
                                    "CreateContainerError", "InvalidImageName"})


def _operator_container(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == CONTAINER:
            return status
    return {}


def terminated_exit_code(pod: Mapping[str, Any]) -> int | None:
    """The exit code of the operator container of a pod object (a dict), once it terminated."""
    terminated = (_operator_container(pod).get("state") or {}).get("terminated")
    return int(terminated["exitCode"]) if terminated else None


def container_problem(pod: Mapping[str, Any]) -> str | None:
    """Why the operator container of a pod object (a dict) is not running as it should: it
    terminated, restarted, or waits for something that will not come (None: no problem seen)."""
    name = (pod.get("metadata") or {}).get("name", "?")
    status = _operator_container(pod)
    code = terminated_exit_code(pod)
    if code is not None:
        return f"the operator in pod {name} exited with {code}"
    if status.get("restartCount", 0) > 0:
        return f"the operator in pod {name} restarted {status['restartCount']} time(s)"
    waiting = ((status.get("state") or {}).get("waiting") or {}).get("reason")
    if waiting in BROKEN_WAITING_REASONS:
        return f"the operator in pod {name} cannot start: {waiting}"
    return None
