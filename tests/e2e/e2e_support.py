"""End-to-end helpers: the sandbox API server and the real `addon-operator run`, as processes.

The `cluster` fixture (conftest.py) starts `python -m kube_sandbox` with the project's CRDs in a temporary directory,
creates the release namespace and gives a `Cluster`: the kubeconfig, an official-client API, `kubectl`, and `operator(...)`,
which starts `python -m addon_operator run` against it (modules dir, global hooks dir, a free
HTTP port, a private tmp dir, short retry delays) and returns an `OperatorProcess` that can be
stopped (SIGTERM) and started again. Both processes are stopped by their pid at the end of the
test; the operator's log is in `<tmp>/operator-<n>.log` (printed when a wait times out).
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client, config

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "addons"
GROUP, VERSION = "addon-operator.io", "v1alpha1"
START_TIMEOUT = 20.0
WAIT_TIMEOUT = 60.0


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


class OperatorProcess:
    """One `addon-operator run` process (restartable with the same settings)."""

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

    def wait_ready(self, timeout: float = WAIT_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"the operator exited with {self.proc.returncode}:\n{self.log()}")
            if self.http("/readyz")[0] == 200:
                return
            time.sleep(0.2)
        raise AssertionError(f"/readyz not 200 after {timeout:g}s; operator log:\n{self.log()}")


class Cluster:
    """The sandbox API server process and what tests use to look at it."""

    def __init__(self, tmp: Path, kubeconfig: Path, proc: subprocess.Popen[bytes]) -> None:
        self.tmp, self.kubeconfig, self.proc = tmp, kubeconfig, proc
        self.api_client = config.new_client_from_config(config_file=str(kubeconfig))
        self.custom = client.CustomObjectsApi(self.api_client)
        self.core = client.CoreV1Api(self.api_client)
        self.operators: list[OperatorProcess] = []

    def operator(self, modules_dir: Path = ROOT / "modules",
                 global_hooks_dir: Path | None = ROOT / "global-hooks",
                 **env: str) -> OperatorProcess:
        port = free_port()
        argv = [sys.executable, "-m", "addon_operator", "run", "--modules-dir", str(modules_dir),
                "--global-hooks-dir", str(global_hooks_dir or ""), "--listen-address", "127.0.0.1",
                "--listen-port", str(port), "--tmp-dir", str(self.tmp / "operator-tmp")]
        settings = {"KUBECONFIG": str(self.kubeconfig), "ADDON_OPERATOR_NAMESPACE": NAMESPACE,
                    "ADDON_OPERATOR_RETRY_INITIAL_DELAY_SECONDS": "1",
                    "ADDON_OPERATOR_RETRY_MAX_DELAY_SECONDS": "4", "LOG_LEVEL": "debug", **env}
        process = OperatorProcess(argv, python_env(settings), self.tmp, port)
        self.operators.append(process)
        return process.start()

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
        secrets = self.core.list_namespaced_secret(NAMESPACE, label_selector=f"owner=helm,name={name}")
        return sorted(int(s.metadata.labels["version"]) for s in secrets.items)

    def kubectl(self, *args: str) -> str:
        done = subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig),
                               "--cache-dir", str(self.tmp / "kube-cache"), *args],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
        return done.stdout

    def wait(self, what: str, check: Callable[[], bool], timeout: float = WAIT_TIMEOUT) -> None:
        """Poll `check` until it is true; on timeout fail with the operator's log."""
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
