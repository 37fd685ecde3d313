"""Two replicas with `ADDON_OPERATOR_HA=true`: only the Lease holder converges, the standby is
healthy and ready; a gracefully stopped leader hands the Lease back so the standby takes over
well within the lease duration, a killed one is replaced once the lease duration has passed;
neither takeover adds a Helm revision."""

from __future__ import annotations

import signal
import time

import pytest
from kubernetes import client

from e2e_support import NAMESPACE, Cluster, OperatorProcess, free_port

LEASE_NAME = "addon-operator-leader-election"
LEASE_SECONDS = 4.0
RETRY_SECONDS = 0.3
HA = {"ADDON_OPERATOR_HA": "true",
      "ADDON_OPERATOR_HA_LEASE_DURATION_SECONDS": f"{LEASE_SECONDS:g}",
      "ADDON_OPERATOR_HA_RENEW_DEADLINE_SECONDS": "3",
      "ADDON_OPERATOR_HA_RETRY_PERIOD_SECONDS": f"{RETRY_SECONDS:g}"}
STARTUP_CONVERGE = 'addon_operator_convergence_total{activation="OperatorStartup"} 1.0'

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox_only(
    reason="two operator processes side by side, and the Lease read in the sandbox's namespace")]


def holder(cluster: Cluster) -> str:
    try:
        lease = client.CoordinationV1Api(cluster.api_client).read_namespaced_lease(
            LEASE_NAME, NAMESPACE)
    except client.ApiException as exc:
        if exc.status == 404:
            return ""
        raise
    return lease.spec.holder_identity or ""


def seconds_until_held_by(cluster: Cluster, identity: str, timeout: float = 30.0) -> float:
    """Poll the Lease until `identity` holds it; the seconds that took."""
    started = time.monotonic()
    cluster.wait(f"{identity} holding the lease", lambda: holder(cluster) == identity, timeout)
    return time.monotonic() - started


def replica(cluster: Cluster, like: OperatorProcess, pod: str) -> OperatorProcess:
    """Another replica with `like`'s settings, its own port, identity and log directory."""
    port = free_port()
    argv = list(like.argv)
    argv[argv.index("--listen-port") + 1] = str(port)
    log_dir = cluster.tmp / pod
    log_dir.mkdir()
    process = OperatorProcess(argv, {**like.env, "ADDON_OPERATOR_POD": pod}, log_dir, port)
    cluster.operators.append(process)
    return process.start()


def converged_once(process: OperatorProcess) -> bool:
    code, text = process.http("/metrics")
    return code == 200 and STARTUP_CONVERGE in text


def test_only_the_leader_works_and_a_standby_takes_over(cluster: Cluster) -> None:
    first = cluster.operator(ADDON_OPERATOR_POD="replica-a", **HA)
    seconds_until_held_by(cluster, "replica-a")
    cluster.wait("replica-a converged", lambda: converged_once(first))
    first.wait_ready()
    cluster.wait("echo-server Ready",
                 lambda: cluster.module("echo-server")["status"]["phase"] == "Ready")
    second = replica(cluster, first, "replica-b")
    cluster.wait("the standby waiting", lambda: "waiting to lead as replica-b" in second.log())
    assert second.http("/healthz")[0] == 200
    assert second.http("/readyz")[0] == 200, "a standby replica reports ready"
    assert not converged_once(second) and holder(cluster) == "replica-a"

    assert first.proc is not None
    first.proc.send_signal(signal.SIGTERM)
    took = seconds_until_held_by(cluster, "replica-b")
    assert took < LEASE_SECONDS / 2, f"takeover after a graceful stop took {took:.1f}s"
    assert first.proc.wait(20) == 0
    assert "released the lease" in first.log()
    cluster.wait("replica-b converged", lambda: converged_once(second))
    second.wait_ready()
    assert cluster.release_revisions("echo-server") == [1]

    first.start()
    cluster.wait("replica-a standing by", lambda: "waiting to lead as replica-a" in first.log())
    first.wait_ready()
    assert second.proc is not None
    second.proc.send_signal(signal.SIGKILL)
    took = seconds_until_held_by(cluster, "replica-a")
    # The killed leader renewed at most one retry period before the kill, and the standby saw
    # that renewal at most one retry period after it: it waits out the rest of the lease.
    assert LEASE_SECONDS - 2 * RETRY_SECONDS - 0.5 < took < LEASE_SECONDS + 5, \
        f"takeover after a kill took {took:.1f}s"
    cluster.wait("replica-a converged again", lambda: converged_once(first))
    assert cluster.release_revisions("echo-server") == [1]
