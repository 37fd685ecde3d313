"""Fixtures for tests that need a Kubernetes API: the in-process sandbox server.

`sandbox` is one server for the whole session (tests must use their own namespaces or object
names); `fresh_sandbox` is a new, empty server per test (for fault injection, history expiry,
restarts). `kubeconfig` is the path of the session server's kubeconfig, for kubectl and helm;
`api_client` (`fresh_client`) is an official-client `ApiClient` configured from the kubeconfig
of `sandbox` (`fresh_sandbox`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from kube_sandbox import SandboxServer


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    directory = tmp_path_factory.mktemp("sandbox")
    with SandboxServer(kubeconfig_path=directory / "kubeconfig", bookmark_interval=0.5) as server:
        yield server


@pytest.fixture(scope="session")
def kubeconfig(sandbox: SandboxServer) -> Path:
    assert sandbox.kubeconfig_path is not None
    return sandbox.kubeconfig_path


@pytest.fixture
def fresh_sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(kubeconfig_path=tmp_path / "kubeconfig", bookmark_interval=0.2, history_size=50) as server:
        yield server


def client_for(server: SandboxServer) -> client.ApiClient:
    """An official-client ApiClient configured from the server's kubeconfig file."""
    return config.new_client_from_config(config_file=str(server.kubeconfig_path))


@pytest.fixture(scope="session")
def api_client(sandbox: SandboxServer) -> client.ApiClient:
    return client_for(sandbox)


@pytest.fixture
def fresh_client(fresh_sandbox: SandboxServer) -> client.ApiClient:
    return client_for(fresh_sandbox)
