"""Module trees in the style of upstream's examples (testdata/upstream-style/, written here)
converge on the sandbox: a sysctl-tuner with beforeHelm/afterHelm/afterDeleteHelm hooks telling
the bindings apart by `.[0].binding`, a module whose hook computes values from static defaults
merged with Module settings, a module re-rendered from Namespace events (one deduplicated module
run per burst), and a global schedule hook whose values change re-converges once."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from conformance_support import Dumps
from e2e_support import NAMESPACE, Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox_only(
    reason="the hooks dump their binding contexts into the test's local directory")]

UPSTREAM = Path(__file__).parent / "testdata" / "upstream-style"
WAIT = 30.0


def configmap_data(cluster: Cluster, name: str) -> dict[str, str]:
    return cluster.core.read_namespaced_config_map(name, NAMESPACE).data or {}


def revision(cluster: Cluster, module: str) -> int:
    return int(cluster.module(module)["status"]["release"]["revision"])


def test_upstream_style_modules_converge(cluster: Cluster) -> None:
    dumps = Dumps(cluster.tmp / "dump")
    cluster.core.create_namespace({"metadata": {"name": "team-a", "labels": {"watched": "yes"}}})
    operator = cluster.operator(modules_dir=UPSTREAM / "modules",
                                global_hooks_dir=UPSTREAM / "global-hooks", **dumps.env())
    operator.wait_ready()
    tuner_log = dumps.directory / "sysctl-tuner.log"

    # The global schedule fires every second from the first converge on and its first value
    # change converges again, so the module may be Reconciling for a moment.
    cluster.wait("sysctl-tuner Ready",
                 lambda: cluster.module("sysctl-tuner")["status"]["phase"] == "Ready")
    apps = client.AppsV1Api(cluster.api_client)
    assert apps.read_namespaced_daemon_set("sysctl-tuner", NAMESPACE).spec.template.spec \
        .containers[0].name == "tuner"
    assert tuner_log.read_text().split()[:2] == ["beforeHelm", "afterHelm"]

    cluster.wait("the schedule's global value reached the chart",
                 lambda: configmap_data(cluster, "values-merge").get("clusterName") == "sandbox")
    cluster.patch_module("values-merge", {"settings": {"params": {"kernel.pid_max": "65536"},
                                                       "sleep": "300"}})
    cluster.wait("settings merged over the static values", lambda: configmap_data(
        cluster, "values-merge") == {"net.core.somaxconn": "1024", "vm.swappiness": "10",
                                     "kernel.pid_max": "65536", "sleep": "300",
                                     "paramCount": "3", "clusterName": "sandbox"})

    assert configmap_data(cluster, "namespace-watcher") == {"namespaces": "team-a"}
    before = revision(cluster, "namespace-watcher")
    for name in ("team-d", "team-b", "team-c", "team-e"):
        cluster.core.create_namespace({"metadata": {"name": name, "labels": {"watched": "yes"}}})
    cluster.core.create_namespace({"metadata": {"name": "unwatched"}})
    cluster.wait("every watched namespace rendered", lambda: configmap_data(
        cluster, "namespace-watcher") == {"namespaces": "team-a,team-b,team-c,team-d,team-e"})
    cluster.wait("the module Ready", lambda: cluster.module(
        "namespace-watcher")["status"]["phase"] == "Ready")
    assert revision(cluster, "namespace-watcher") - before <= 2, \
        "a burst of Namespace events gives deduplicated module runs, not one per event"

    assert cluster.release_revisions("sysctl-tuner") == [1], "re-runs without changes: no upgrade"
    cluster.patch_module("sysctl-tuner", {"enabled": False})
    cluster.wait("sysctl-tuner disabled", lambda: cluster.module(
        "sysctl-tuner")["status"]["phase"] == "Disabled")
    runs = tuner_log.read_text().split()
    assert runs[-1] == "afterDeleteHelm"
    assert runs[:-1] == ["beforeHelm", "afterHelm"] * (len(runs) // 2), \
        "each converge (start-up, the global values change) runs beforeHelm, then afterHelm"
    assert not [d for d in apps.list_namespaced_daemon_set(NAMESPACE).items
                if d.metadata.name == "sysctl-tuner"]
    assert cluster.release_revisions("sysctl-tuner") == []
