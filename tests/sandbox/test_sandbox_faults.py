"""Fault injection: failing requests, latency, pauses, over the Python API and over HTTP."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kube_sandbox import SandboxServer
from kube_sandbox.errors import ApiError
from kube_sandbox.faults import Faults
from kube_sandbox.store import Store


def test_fail_matching_requests_n_times(fresh_sandbox: SandboxServer, fresh_client: client.ApiClient) -> None:
    core = client.CoreV1Api(fresh_client)
    fresh_sandbox.faults.fail(r"/configmaps", method="POST", status=503, times=2)
    for _ in range(2):
        with pytest.raises(ApiException) as failed:
            core.create_namespaced_config_map("default", {"metadata": {"name": "x"}})
        assert failed.value.status == 503 and json.loads(failed.value.body)["reason"] == "ServiceUnavailable"
    assert core.list_namespaced_config_map("default").items == []  # GET is not matched
    core.create_namespaced_config_map("default", {"metadata": {"name": "x"}})
    assert fresh_sandbox.store.get(("", "configmaps"), "default", "x") is not None


def test_failure_for_a_duration_and_latency_use_injected_time() -> None:
    now = [100.0]
    slept: list[float] = []
    faults = Faults(Store(), clock=lambda: now[0], sleep=slept.append)
    faults.fail("/api/v1/pods", seconds=10, status=500)
    faults.add_latency(0.25, "/api/v1/pods", method="GET")
    with pytest.raises(ApiError) as failed:
        faults.before_request("GET", "/api/v1/pods")
    assert failed.value.code == 500 and slept == [0.25]
    now[0] = 110.0
    faults.before_request("GET", "/api/v1/pods")
    faults.before_request("PUT", "/api/v1/pods")
    assert slept == [0.25, 0.25]


def test_pause_blocks_requests_until_resume(fresh_sandbox: SandboxServer, fresh_client: client.ApiClient) -> None:
    core = client.CoreV1Api(fresh_client)
    fresh_sandbox.faults.pause()
    done = threading.Event()
    worker = threading.Thread(target=lambda: (core.list_namespace(), done.set()))
    worker.start()
    assert not done.wait(0.3)
    fresh_sandbox.faults.resume()
    assert done.wait(5)
    worker.join()


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_http_fault_api(fresh_sandbox: SandboxServer, fresh_client: client.ApiClient) -> None:
    core = client.CoreV1Api(fresh_client)
    described = post(f"{fresh_sandbox.url}/sandbox/faults/fail", {"path": "/namespaces$", "status": 500, "times": 1})
    assert described["failures"][0]["remaining"] == 1
    with pytest.raises(ApiException) as failed:
        core.list_namespace()
    assert failed.value.status == 500
    assert len(core.list_namespace().items) == 4
    post(f"{fresh_sandbox.url}/sandbox/faults/pause", {})
    assert post(f"{fresh_sandbox.url}/sandbox/faults/resume", {})["paused"] is False
    with pytest.raises(urllib.error.HTTPError) as unknown:
        post(f"{fresh_sandbox.url}/sandbox/faults/explode", {})
    assert unknown.value.code == 400
