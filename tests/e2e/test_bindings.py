"""Hooks with kubernetes and schedule bindings (testdata/bindings-*): Synchronization before the
first converge (global hooks) and the first Helm run (module hooks), Events re-running the module
or re-converging with fresh snapshots, schedules ticking after the first converge, bindings
stopped when the module is disabled."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from e2e_support import NAMESPACE, Cluster, hook

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox_only(
    reason="its modules are test data, not in the image, and it writes to the sandbox's namespace")]

MODULES = Path(__file__).parent / "testdata" / "bindings-modules"
GLOBAL_HOOKS = Path(__file__).parent / "testdata" / "bindings-global-hooks"


def rendered(cluster: Cluster, key: str = "names") -> str:
    return cluster.core.read_namespaced_config_map("watcher-names", NAMESPACE).data[key]


def labelled(name: str) -> dict:
    return {"metadata": {"name": name, "labels": {"watch-me": "yes"}}, "data": {"k": name}}


def test_kubernetes_and_schedule_bindings(cluster: Cluster) -> None:
    cluster.core.create_namespaced_config_map(NAMESPACE, labelled("cm-a"))
    cluster.core.create_namespace({"metadata": {"name": "team-red", "labels": {"team": "red"}}})
    operator = cluster.operator(modules_dir=MODULES, global_hooks_dir=GLOBAL_HOOKS)
    operator.wait_ready()
    cluster.wait("first render sees the synchronized snapshot",
                 lambda: rendered(cluster) == "cm-a")

    assert rendered(cluster, "teams") == "team-red", \
        "the global Synchronization ran before the converge"
    cluster.core.create_namespace({"metadata": {"name": "team-blue", "labels": {"team": "b"}}})
    cluster.wait("a global Event re-converges", lambda: rendered(cluster, "teams")
                 == "team-blue,team-red")
    cluster.core.create_namespaced_config_map(NAMESPACE, labelled("cm-b"))
    cluster.core.create_namespaced_config_map(NAMESPACE, {"metadata": {"name": "ignored"}})
    cluster.wait("an Event re-runs the module", lambda: rendered(cluster) == "cm-a,cm-b"
                 and cluster.module("watcher")["status"]["release"]["revision"] == 3)

    tick = 'watcher_ticks{hook="hooks/watch.sh",module="watcher"}'
    cluster.wait("the schedule ticks", lambda: tick in operator.http("/metrics/hooks")[1])
    entry = hook(cluster.module("watcher"), "hooks/watch.sh")
    assert entry["bindings"] == ["beforeHelm", "tick", "configmaps"]
    assert entry["failures"] == 0

    cluster.patch_module("watcher", {"enabled": False})
    cluster.wait("watcher Disabled",
                 lambda: cluster.module("watcher")["status"]["phase"] == "Disabled")
    runs = hook(cluster.module("watcher"), "hooks/watch.sh")["runs"]
    cluster.core.create_namespaced_config_map(NAMESPACE, labelled("cm-c"))
    cluster.core.delete_namespaced_config_map("cm-a", NAMESPACE)
    time.sleep(3)
    assert hook(cluster.module("watcher"), "hooks/watch.sh")["runs"] == runs, \
        "no binding runs for a disabled module"
