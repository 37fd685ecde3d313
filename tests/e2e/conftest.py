"""The `cluster` fixture of the end-to-end tests (helpers in `e2e_support.py`)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e_support import (
    NAMESPACE, ROOT, START_TIMEOUT, Cluster, python_env, stop_process, tools_missing,
)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    reason = tools_missing()
    if reason:
        pytest.skip(reason)
    kubeconfig = tmp_path / "kubeconfig"
    log = (tmp_path / "sandbox.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kube_sandbox", "--port", "0", "--kubeconfig", str(kubeconfig),
         "--crds", str(ROOT / "crds"), "--bookmark-interval", "1"],
        env=python_env({}), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT
    while not (kubeconfig.exists() and b"listening" in (tmp_path / "sandbox.log").read_bytes()):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc)
            raise AssertionError(f"the sandbox did not start:\n{(tmp_path / 'sandbox.log').read_text()}")
        time.sleep(0.05)
    cluster = Cluster(tmp_path, kubeconfig, proc)
    cluster.core.create_namespace({"metadata": {"name": NAMESPACE}})
    try:
        yield cluster
    finally:
        for operator in cluster.operators:
            if operator.proc is not None:
                stop_process(operator.proc)
        cluster.api_client.close()
        stop_process(proc)
        log.close()
