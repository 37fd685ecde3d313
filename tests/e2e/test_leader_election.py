"""Two replicas with `ADDON_OPERATOR_HA=true`: only the Lease holder converges; when it stops,
the other takes the Lease over and converges without adding Helm revisions."""

from __future__ import annotations

import pytest

from e2e_support import Cluster

HA = {"ADDON_OPERATOR_HA": "true", "ADDON_OPERATOR_HA_LEASE_DURATION_SECONDS": "3",
      "ADDON_OPERATOR_HA_RENEW_DEADLINE_SECONDS": "2",
      "ADDON_OPERATOR_HA_RETRY_PERIOD_SECONDS": "0.3"}

pytestmark = pytest.mark.e2e


def test_only_the_leader_works_and_a_standby_takes_over(cluster: Cluster) -> None:
    first = cluster.operator(ADDON_OPERATOR_POD="replica-a", **HA)
    first.wait_ready()
    second = cluster.operator(ADDON_OPERATOR_POD="replica-b", **HA)
    cluster.wait("echo-server Ready",
                 lambda: cluster.module("echo-server")["status"]["phase"] == "Ready")
    cluster.wait("the standby waiting", lambda: second.http("/healthz")[0] == 200
                 and "waiting to lead as replica-b" in second.log())
    assert second.http("/readyz")[0] == 503, "a standby replica does not converge"

    assert first.stop() == 0
    second.wait_ready()
    assert "leading: starting the work" in second.log()
    assert cluster.release_revisions("echo-server") == [1]
