"""End-to-end helpers: the `Cluster` API every scenario uses, whichever target runs it.

The `cluster` fixture (conftest.py) gives a `Cluster`: the kubeconfig, an official-client API,
`kubectl`, waits that fail with the operator's log, and `operator(...)`, which starts the real
operator and returns a handle that can be stopped and started again, asked for `/readyz` and
its other HTTP endpoints (`samples()` parses a metrics page), and read for its log.

On the sandbox target (the default) the cluster is `python -m kube_sandbox` with the project's
CRDs in a temporary directory, and `operator(...)` starts `python -m addon_operator run` against
it (modules dir, global hooks dir, a free HTTP port, a private tmp dir, short retry delays) as
an `OperatorProcess`; both processes are stopped by their pid at the end of the test; the
operator's log is in `<tmp>/operator-<n>.log`. The kind target (`kind_cluster.py`) plugs its
own launcher in, which drives the operator's Deployment instead.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kubernetes import client, config
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "addons"
GROUP, VERSION = "addon-operator.io", "v1alpha1"
START_TIMEOUT = 20.0
WAIT_TIMEOUT = 60.0
# What every operator a scenario starts gets, on every target: short retries, debug logs.
OPERATOR_SETTINGS = {"ADDON_OPERATOR_RETRY_INITIAL_DELAY_SECONDS": "1",
                     "ADDON_OPERATOR_RETRY_MAX_DELAY_SECONDS": "4", "LOG_LEVEL": "debug"}


def tools_missing() -> str | None:
    missing = [tool for tool in ("helm", "kubectl", "jq") if shutil.which(tool) is None]
    return f"{', '.join(missing)} not on PATH (make setup)" if missing else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def python_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "operator"), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


# A metrics page: {(sample name, frozenset of its labels): value}.
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class OperatorHandle(ABC):
    """What a scenario does with a running operator, whatever runs it: `start` it again, `stop`
    it (SIGTERM; returns the exit code), ask its HTTP endpoints, read its log, wait for /readyz."""

    starts = 0
    patience = 1.0   # how many times the default timeouts the target needs

    @abstractmethod
    def start(self) -> OperatorHandle:
        """Start the operator (again, with the same settings)."""

    @abstractmethod
    def stop(self) -> int:
        """Stop it gracefully and return its exit code."""

    @abstractmethod
    def running(self) -> bool:
        """Whether it was started and not stopped."""

    @abstractmethod
    def http(self, path: str) -> tuple[int, str]:
        """GET `path` on its HTTP port: (status, body); status 0 when it cannot be reached."""

    @abstractmethod
    def log(self) -> str:
        """The log of its current (else last) run."""

    @abstractmethod
    def exited(self) -> str | None:
        """Why it is no longer running when it should be (None: it is running)."""

    def close(self) -> None:
        """Release what the handle holds at the end of the test."""

    def samples(self, path: str = "/metrics") -> Samples:
        """The Prometheus endpoint `path` as {(sample name, labels): value}."""
        status, text = self.http(path)
        assert status == 200, text
        return {(sample.name, frozenset(sample.labels.items())): sample.value
                for family in text_string_to_metric_families(text) for sample in family.samples}

    def wait_ready(self, timeout: float = WAIT_TIMEOUT) -> None:
        timeout *= self.patience
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            problem = self.exited()
            if problem:
                raise AssertionError(f"{problem}:\n{self.log()}")
            if self.http("/readyz")[0] == 200:
                return
            time.sleep(0.2)
        raise AssertionError(f"/readyz not 200 after {timeout:g}s; operator log:\n{self.log()}")


class OperatorProcess(OperatorHandle):
    """One local `addon-operator run` process (restartable with the same settings)."""

    def __init__(self, argv: list[str], env: dict[str, str], log_dir: Path, port: int) -> None:
        self.argv, self.env, self.log_dir, self.port = argv, env, log_dir, port
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log_path = log_dir / "operator-0.log"

    def start(self) -> OperatorProcess:
        self.starts += 1
        self.log_path = self.log_dir / f"operator-{self.starts}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=str(ROOT))
        return self

    def stop(self) -> int:
        assert self.proc is not None
        return stop_process(self.proc)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def http(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()
        except OSError as err:
            return 0, str(err)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def exited(self) -> str | None:
        if self.proc is not None and self.proc.poll() is not None:
            return f"the operator exited with {self.proc.returncode}"
        return None


Launcher = Callable[["Cluster", Path, "Path | None", dict[str, str]], OperatorHandle]


def launch_process(cluster: Cluster, modules_dir: Path, global_hooks_dir: Path | None,
                   env: dict[str, str]) -> OperatorProcess:
    """The sandbox target's launcher: a local operator process against the sandbox."""
    port = free_port()
    argv = [sys.executable, "-m", "addon_operator", "run", "--modules-dir", str(modules_dir),
            "--global-hooks-dir", str(global_hooks_dir or ""), "--listen-address", "127.0.0.1",
            "--listen-port", str(port), "--tmp-dir", str(cluster.tmp / "operator-tmp")]
    settings = {"KUBECONFIG": str(cluster.kubeconfig), "ADDON_OPERATOR_NAMESPACE": cluster.namespace,
                **OPERATOR_SETTINGS, **env}
    return OperatorProcess(argv, python_env(settings), cluster.tmp, port).start()


class Cluster:
    """A cluster target's API server and what tests use to look at it; `proc` is the sandbox
    process (None on kind), `namespace` the operator's (its Helm releases and Events)."""

    def __init__(self, tmp: Path, kubeconfig: Path, proc: subprocess.Popen[bytes] | None = None, *,
                 namespace: str = NAMESPACE, launcher: Launcher = launch_process,
                 patience: float = 1.0) -> None:
        self.tmp, self.kubeconfig, self.proc = tmp, kubeconfig, proc
        self.namespace, self.launcher, self.patience = namespace, launcher, patience
        self.api_client = config.new_client_from_config(config_file=str(kubeconfig))
        self.custom = client.CustomObjectsApi(self.api_client)
        self.core = client.CoreV1Api(self.api_client)
        self.operators: list[OperatorHandle] = []

    def operator(self, modules_dir: Path = ROOT / "modules",
                 global_hooks_dir: Path | None = ROOT / "global-hooks",
                 **env: str) -> OperatorHandle:
        """Start the operator on these modules and global hooks, with extra environment."""
        process = self.launcher(self, modules_dir, global_hooks_dir, env)
        process.patience = self.patience
        self.operators.append(process)
        return process

    def close(self) -> None:
        for operator in self.operators:
            operator.close()
        self.api_client.close()

    def module(self, name: str) -> dict[str, Any]:
        return self.custom.get_cluster_custom_object(GROUP, VERSION, "modules", name)

    def global_config(self) -> dict[str, Any]:
        return self.custom.get_cluster_custom_object(GROUP, VERSION, "globalconfigs", "global")

    def patch_module(self, name: str, spec: dict[str, Any]) -> None:
        self.custom.patch_cluster_custom_object(GROUP, VERSION, "modules", name, {"spec": spec})

    def patch_global(self, spec: dict[str, Any]) -> None:
        self.custom.patch_cluster_custom_object(GROUP, VERSION, "globalconfigs", "global", {"spec": spec})

    def release_revisions(self, name: str) -> list[int]:
        """Revisions of the helm release `name` stored as Secrets in the operator namespace."""
        secrets = self.core.list_namespaced_secret(self.namespace, label_selector=f"owner=helm,name={name}")
        return sorted(int(s.metadata.labels["version"]) for s in secrets.items)

    def kubectl(self, *args: str) -> str:
        done = subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig),
                               "--cache-dir", str(self.tmp / "kube-cache"), *args],
                              capture_output=True, text=True, timeout=60 * self.patience)
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
        return done.stdout

    def wait(self, what: str, check: Callable[[], bool], timeout: float = WAIT_TIMEOUT) -> None:
        """Poll `check` until it is true; on timeout fail with the operator's log."""
        timeout *= self.patience
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (client.ApiException, KeyError, TypeError, IndexError) as exc:
                last_error = exc
            time.sleep(0.2)
        logs = "\n".join(p.log()[-6000:] for p in self.operators)
        raise AssertionError(f"timed out after {timeout:g}s waiting for {what} "
                             f"(last error: {last_error}); operator log tail:\n{logs}")


@contextmanager
def sandbox_cluster(tmp: Path) -> Iterator[Cluster]:
    """The sandbox target for one test: a fresh API server with the CRDs and the release
    namespace; every process is stopped afterwards."""
    kubeconfig, log_path = tmp / "kubeconfig", tmp / "sandbox.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kube_sandbox", "--port", "0", "--kubeconfig", str(kubeconfig),
             "--crds", str(ROOT / "crds"), "--bookmark-interval", "1"],
            env=python_env({}), stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not (kubeconfig.exists() and b"listening" in log_path.read_bytes()):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the sandbox did not start:\n{log_path.read_text()}")
                time.sleep(0.05)
            cluster = Cluster(tmp, kubeconfig, proc)
            try:
                cluster.core.create_namespace({"metadata": {"name": NAMESPACE}})
                yield cluster
            finally:
                cluster.close()
        finally:
            stop_process(proc)


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    """The condition of type `kind` in an object's status (KeyError when absent)."""
    for cond in obj.get("status", {}).get("conditions", []):
        if cond["type"] == kind:
            return cond
    raise KeyError(f"{obj['metadata']['name']} has no {kind} condition: {json.dumps(obj.get('status'))}")


def hook(obj: dict[str, Any], name: str) -> dict[str, Any]:
    for entry in obj.get("status", {}).get("hooks", []):
        if entry["name"] == name:
            return entry
    raise KeyError(f"{obj['metadata']['name']} has no hook {name} in its status")
