"""The kind target of the end-to-end scenarios (`pytest tests/e2e --target=kind`, `make e2e-kind`).

Once per session `KindSession.up` creates the kind cluster `addon-operator-e2e` from
`kind-config.yaml` (or reuses it; its context goes to the session's own kubeconfig, never the
user's), builds the image from the Dockerfile, loads it into the node, applies `crds/` and
`deploy/` through an overlay that uses that image and never pulls it, and waits for the
Deployment. Before each test `KindSession.cluster` scales the operator to
zero and removes what the previous test left: Helm releases, Module and GlobalConfig objects.
The test then gets the same `Cluster` API as on the sandbox, with `operator(...)` mapped to the
Deployment (`DeploymentOperator`): start scales it to one replica with the test's settings,
stop scales it to zero and returns the container's exit code, HTTP goes through the API
server's pod proxy. Scenarios that need modules not baked in the image, or several operators at
once, skip with the reason. Teardown deletes the cluster unless `--keep-cluster`.
The commands themselves are built by `kind_target.py`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import urllib3
import yaml
from kubernetes import client, watch

import kind_target as kind
from e2e_support import ROOT, Cluster, OperatorHandle

PATIENCE = 3.0          # pods start slower than local processes
POD_TIMEOUT = 120.0


def run_tool(argv: list[str], timeout: float = 600.0) -> str:
    """Run one command of the kind target; fail naming the command and its stderr."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited with {done.returncode}:\n{done.stderr[-4000:]}")
    return done.stdout


class KindSession:
    """The kind cluster with the operator installed, shared by every test of the session."""

    def __init__(self, work: Path, keep: bool) -> None:
        self.work, self.keep = work, keep
        self.kubeconfig = work / "kubeconfig"
        self.base_env: list[dict[str, Any]] = []

    def problem(self) -> str | None:
        """The skip reason when the Docker daemon does not answer or kind is too old for the
        node image (None: neither)."""
        docker = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
        if docker.returncode != 0:
            lines = (docker.stderr.strip() or docker.stdout.strip()).splitlines()
            return f"kind target needs a running Docker daemon: {lines[-1] if lines else 'docker info failed'}"
        return kind.kind_too_old(run_tool(kind.kind_version(), timeout=60))

    def up(self) -> None:
        if kind.CLUSTER_NAME not in run_tool(kind.list_clusters()).split():
            # The first run pulls the node image (about 1 GB).
            run_tool(kind.create_cluster(ROOT / "kind-config.yaml", self.kubeconfig), timeout=1800)
        run_tool(kind.build_image(ROOT), timeout=1800)
        run_tool(kind.load_image())
        self.kubeconfig.write_text(run_tool(kind.get_kubeconfig()))
        overlay = kind.write_overlay(self.work / "overlay", ROOT / "deploy")
        manifests = yaml.safe_load_all(run_tool(kind.build_overlay(overlay)))
        deployment = next(doc for doc in manifests if doc and doc["kind"] == "Deployment")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        self.base_env = container.get("env", [])
        run_tool(kind.apply_overlay(self.kubeconfig, overlay))
        run_tool(kind.wait_crds(self.kubeconfig))
        # A kept cluster's Deployment still has the last test's settings and zero replicas.
        run_tool(kind.patch_deployment(self.kubeconfig, kind.container_patch(1, container["args"], self.base_env)))
        run_tool(kind.rollout_status(self.kubeconfig))

    def down(self) -> None:
        if not self.keep:
            run_tool(kind.delete_cluster(self.kubeconfig))

    @contextmanager
    def cluster(self, tmp: Path) -> Iterator[Cluster]:
        """A `Cluster` for one test, with the operator stopped and last test's leftovers gone."""
        cluster = Cluster(tmp, self.kubeconfig, None, namespace=kind.NAMESPACE,
                          launcher=self.launch, patience=PATIENCE)
        try:
            self._reset(cluster)
            yield cluster
        finally:
            cluster.close()

    def _reset(self, cluster: Cluster) -> None:
        run_tool(kind.scale_deployment(self.kubeconfig, 0))
        cluster.wait("no operator pod left", lambda: not cluster.core.list_namespaced_pod(
            kind.NAMESPACE, label_selector=kind.POD_SELECTOR).items, timeout=POD_TIMEOUT)
        releases = run_tool(kind.list_releases(self.kubeconfig)).split()
        if releases:
            run_tool(kind.uninstall_releases(self.kubeconfig, releases))
        run_tool(kind.delete_objects(self.kubeconfig))

    def launch(self, cluster: Cluster, modules_dir: Path, global_hooks_dir: Path | None,
               env: dict[str, str]) -> DeploymentOperator:
        """The kind target's launcher: the operator Deployment with this test's settings."""
        try:
            args = kind.operator_args(ROOT, modules_dir, global_hooks_dir)
        except kind.NotOnKind as exc:
            pytest.skip(f"sandbox only: {exc}")
        if any(operator.running() for operator in cluster.operators):
            pytest.skip("sandbox only: the kind target runs one operator Deployment, "
                        "not several operators at once")
        return DeploymentOperator(cluster, args, kind.container_env(self.base_env, env)).start()


class DeploymentOperator(OperatorHandle):
    """The operator as the kind cluster runs it: one pod of the Deployment."""

    def __init__(self, cluster: Cluster, args: list[str], env: list[dict[str, Any]]) -> None:
        self.cluster, self.args, self.env = cluster, args, env
        self.patience = cluster.patience
        self.pod: str | None = None
        self.last_log = ""

    def start(self) -> DeploymentOperator:
        self.starts += 1
        run_tool(kind.patch_deployment(self.cluster.kubeconfig, kind.container_patch(1, self.args, self.env)))
        self.cluster.wait("the operator pod running", self._pod_running, timeout=POD_TIMEOUT)
        return self

    def _pod_running(self) -> bool:
        pods = self.cluster.core.list_namespaced_pod(kind.NAMESPACE, label_selector=kind.POD_SELECTOR)
        live = [self._as_dict(p) for p in pods.items if p.metadata.deletion_timestamp is None]
        for pod in live:
            problem = kind.container_problem(pod)
            if problem:
                raise AssertionError(f"{problem}:\n{self._pod_log(pod['metadata']['name'])}")
        running = [p for p in live if p["status"].get("phase") == "Running"]
        if len(running) == 1:
            self.pod = running[0]["metadata"]["name"]
        return self.pod is not None

    def stop(self) -> int:
        assert self.pod is not None, "the operator is not running"
        pod, self.pod = self.pod, None
        since = self.cluster.core.read_namespaced_pod(pod, kind.NAMESPACE).metadata.resource_version
        self.last_log = self._pod_log(pod) or self.last_log
        run_tool(kind.scale_deployment(self.cluster.kubeconfig, 0))
        code: int | None = None
        for event in watch.Watch().stream(self.cluster.core.list_namespaced_pod, kind.NAMESPACE,
                                          field_selector=f"metadata.name={pod}", resource_version=since,
                                          timeout_seconds=int(POD_TIMEOUT * self.patience)):
            seen = kind.terminated_exit_code(event["raw_object"])
            if seen is not None and code is None:
                code = seen
                self.last_log = self._pod_log(pod) or self.last_log
            if event["type"] == "DELETED":
                break
        if code is None:
            raise AssertionError(f"pod {pod} did not report the operator's exit code before it went away")
        return code

    def running(self) -> bool:
        return self.pod is not None

    def http(self, path: str) -> tuple[int, str]:
        """GET through the API server's pod proxy, with the client's TLS and credentials."""
        if self.pod is None:
            return 0, "the operator is not running"
        settings = self.cluster.api_client.configuration
        token = settings.get_api_key_with_prefix("authorization")
        try:
            response = self.cluster.api_client.rest_client.pool_manager.request(
                "GET", settings.host + kind.pod_proxy_path(self.pod, path),
                headers={"Authorization": token} if token else {}, timeout=5)
        except urllib3.exceptions.HTTPError as err:
            return 0, str(err)
        return response.status, response.data.decode(errors="replace")

    def log(self) -> str:
        return (self._pod_log(self.pod) if self.pod else "") or self.last_log

    def exited(self) -> str | None:
        if self.pod is None:
            return "the operator is not running"
        try:
            return kind.container_problem(self._as_dict(
                self.cluster.core.read_namespaced_pod(self.pod, kind.NAMESPACE)))
        except client.ApiException as err:
            return f"the operator pod {self.pod} cannot be read: {err.status} {err.reason}"

    def _pod_log(self, pod: str) -> str:
        try:
            return str(self.cluster.core.read_namespaced_pod_log(pod, kind.NAMESPACE, container=kind.CONTAINER))
        except client.ApiException:
            return ""

    def _as_dict(self, pod: client.V1Pod) -> dict[str, Any]:
        return self.cluster.api_client.sanitize_for_serialization(pod)
