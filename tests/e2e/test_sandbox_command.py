"""`addon-operator sandbox`: starts the API server with the CRDs, writes the kubeconfig, converges
the example modules, and stops both processes on SIGTERM; `--api-only` runs just the server."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from e2e_support import ROOT, free_port, python_env

pytestmark = pytest.mark.e2e


def _start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], Path, int]:
    kubeconfig, port = tmp_path / "sandbox" / "kubeconfig", free_port()
    argv = [sys.executable, "-m", "addon_operator", "sandbox", "--kubeconfig", str(kubeconfig),
            "--listen-address", "127.0.0.1", "--listen-port", str(port),
            "--tmp-dir", str(tmp_path / "tmp"), *extra]
    proc = subprocess.Popen(argv, cwd=str(ROOT), env=python_env({"LOG_LEVEL": "info"}),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, kubeconfig, port


def _kubectl(kubeconfig: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "--cache-dir",
                           str(tmp_path / "cache"), *args], capture_output=True, text=True, timeout=30)


def _wait(check, what: str, proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"sandbox exited early with {proc.returncode}: {proc.stdout.read()}")
        if check():
            return
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"timed out waiting for {what}: {proc.stdout.read()}")


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _api_answers(kubeconfig: Path) -> bool:
    server = next(line.split()[-1] for line in kubeconfig.read_text().splitlines()
                  if line.strip().startswith("server:"))
    try:
        with urllib.request.urlopen(f"{server}/version", timeout=2):
            return True
    except OSError:
        return False


def test_sandbox_runs_the_operator_on_the_examples(tmp_path: Path) -> None:
    proc, kubeconfig, port = _start(tmp_path)
    try:
        _wait(lambda: _ready(port), "/readyz", proc)
        listing = _kubectl(kubeconfig, tmp_path, "get", "modules")
        assert listing.returncode == 0, listing.stderr
        rows = {line.split()[0]: line.split() for line in listing.stdout.splitlines()[1:]}
        assert set(rows) == {"echo-server", "patched-config", "python-hook", "dependent", "hooks-only"}
        assert rows["echo-server"][3] == "Ready"
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, output
    assert f"export KUBECONFIG={kubeconfig}" in output
    assert not _api_answers(kubeconfig), "the API server child is stopped with the operator"


def test_sandbox_api_only(tmp_path: Path) -> None:
    proc, kubeconfig, _ = _start(tmp_path, "--api-only")
    try:
        _wait(lambda: kubeconfig.exists() and _api_answers(kubeconfig), "the API server", proc)
        crds = _kubectl(kubeconfig, tmp_path, "get", "crd", "-o", "name")
        assert "modules.addon-operator.io" in crds.stdout
        assert _kubectl(kubeconfig, tmp_path, "get", "modules").stderr.strip() == \
            "No resources found", "no operator runs: nothing creates Module objects"
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, output
    assert not _api_answers(kubeconfig)
