"""Auto-heal with the real helm: an object of a module's release deleted behind the operator's
back comes back through exactly one upgrade, with a Warning Event naming it and the upstream
metric; later rounds of the resource monitor leave the healed release alone."""

from __future__ import annotations

import pytest
from kubernetes import client

from e2e_support import Cluster

pytestmark = pytest.mark.e2e

ROUND_DONE = "resource monitor: round done"


def test_deleted_deployment_is_recreated_by_one_upgrade(cluster: Cluster) -> None:
    operator = cluster.operator(ADDON_OPERATOR_HELM_MONITOR_INTERVAL_SECONDS="1")
    operator.wait_ready()
    cluster.wait("echo-server Ready",
                 lambda: cluster.module("echo-server").get("status", {}).get("phase") == "Ready")
    assert cluster.release_revisions("echo-server") == [1]
    apps = client.AppsV1Api(cluster.api_client)
    absent = f"{cluster.namespace}/Deployment/echo-server"
    first_uid = apps.read_namespaced_deployment("echo-server", cluster.namespace).metadata.uid

    apps.delete_namespaced_deployment("echo-server", cluster.namespace)
    cluster.wait("echo-server upgraded to revision 2", lambda: cluster.module(
        "echo-server")["status"].get("release", {}).get("revision") == 2)
    healed = apps.read_namespaced_deployment("echo-server", cluster.namespace)
    assert healed.metadata.uid != first_uid, "a new Deployment, created by helm's upgrade"

    events = {e.reason: e for e in cluster.core.list_namespaced_event(
        cluster.namespace, field_selector="involvedObject.name=echo-server").items}
    warning = events["AbsentHelmResourcesDetected"]
    assert warning.type == "Warning" and f"resources absent: {absent}" in warning.message
    assert events["UpgradeSucceeded"].message == \
        f"release echo-server upgraded to revision 2: resources absent: {absent}"
    assert "AbsentHelmResourcesDetected" in cluster.kubectl("describe", "module", "echo-server")
    metric = (f'addon_operator_modules_absent_resources_total{{module="echo-server",'
              f'resource="{absent}"}} 1.0')
    assert metric in operator.http("/metrics")[1]

    rounds = operator.log().count(ROUND_DONE)
    cluster.wait("two more monitor rounds", lambda: operator.log().count(ROUND_DONE) >= rounds + 2)
    assert cluster.release_revisions("echo-server") == [1, 2], "healed once, then left alone"
