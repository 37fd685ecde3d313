"""Hook outputs and run semantics through the operator (testdata/conformance/outputs/): every
kubernetes patch operation, every metric action on `/metrics/hooks`, `settings` rate limiting,
`allowFailure`, a named queue running beside a busy `main`, and watches resumed after the
sandbox drops them or expires their history (docs/hooks.md: "Metrics",
"Kubernetes operations", "`kubernetes` and `schedule` bindings")."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from conformance_support import TESTDATA, Dumps, configmap, fault
from e2e_support import Cluster, OperatorHandle, hook

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox_only(
    reason="the hooks dump their binding contexts into the test's local directory")]

OUTPUTS = TESTDATA / "outputs"
WAIT = 30.0
WIDGETS = ("conformance.example.io", "v1", "conf", "widgets")


def start(cluster: Cluster, dumps: Dumps) -> OperatorHandle:
    cluster.core.create_namespace({"metadata": {"name": "conf"}})
    modules = cluster.tmp / "no-modules"
    modules.mkdir()
    operator = cluster.operator(modules_dir=modules, global_hooks_dir=OUTPUTS / "global-hooks",
                                **dumps.env())
    operator.wait_ready()
    return operator


def trigger(cluster: Cluster, name: str, step: str) -> None:
    try:
        cluster.core.patch_namespaced_config_map(name, "conf", {"data": {"step": step}})
    except client.ApiException as exc:
        if exc.status != 404:
            raise
        cluster.core.create_namespaced_config_map("conf", configmap(name, {}, step=step))


def data(cluster: Cluster, name: str) -> dict[str, str] | None:
    """The ConfigMap's data, None when it does not exist."""
    try:
        return cluster.core.read_namespaced_config_map(name, "conf").data or {}
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def global_hook(cluster: Cluster, name: str) -> dict[str, Any]:
    return hook(cluster.global_config(), name)


def test_kubernetes_patch_operations(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-f", str(OUTPUTS / "widget-crd.yaml"))
    operator = start(cluster, Dumps(cluster.tmp / "dump"))
    for name, content in (("existing", {"x": "old"}), ("del-foreground", {}),
                          ("del-background", {}), ("del-orphan", {}), ("jq", {"count": "1"}),
                          ("merge", {"keep": "yes"}), ("json", {"keep": "yes"})):
        cluster.core.create_namespaced_config_map("conf", configmap(name, {}, **content))
    widget = {"apiVersion": "conformance.example.io/v1", "kind": "Widget",
              "metadata": {"name": "w1"}, "spec": {"size": 1}}
    create = cluster.custom.create_namespaced_custom_object
    cluster.wait("the Widget kind is served", lambda: create(*WIDGETS, widget) is not None)

    trigger(cluster, "trigger-patches", "apply")
    cluster.wait("the operations applied",
                 lambda: global_hook(cluster, "patches.sh")["lastResult"] == "Succeeded")
    assert data(cluster, "created") == {"a": "1"}, "Create, then CreateIfNotExists left it alone"
    assert data(cluster, "from-yaml-string") == {"a": "3"}, "an object given as a YAML string"
    assert data(cluster, "upserted") == {"u": "new"}, "CreateOrUpdate creates"
    assert data(cluster, "existing") == {"x": "new"}, "CreateOrUpdate replaces"
    for deleted in ("del-foreground", "del-background", "del-orphan"):
        assert data(cluster, deleted) is None, deleted
    assert data(cluster, "jq") == {"count": "2"}
    assert data(cluster, "merge") == {"keep": "yes", "m": "merged"}
    assert data(cluster, "json") == {"keep": "yes", "j": "added"}
    assert data(cluster, "missing") is None, "ignoreMissingObject: no error, nothing created"
    widget = cluster.custom.get_namespaced_custom_object(*WIDGETS, "w1")
    assert widget["status"] == {"phase": "Patched"}
    assert widget["spec"] == {"size": 1}, "a status subresource patch leaves spec alone"

    trigger(cluster, "trigger-patches", "fail")
    cluster.wait("the failing operation in the hook status",
                 lambda: global_hook(cluster, "patches.sh")["lastResult"] == "Failed")
    entry = global_hook(cluster, "patches.sh")
    assert "operation 2 (MergePatch ConfigMap conf/nope)" in entry["message"], entry
    assert data(cluster, "before-failure") == {}, "operations before the failing one stay applied"
    assert operator.running(), "a failing hook never stops the operator"


def sample(operator: OperatorHandle, name: str, **labels: str) -> float | None:
    key = (name, frozenset({"hook": "metrics.sh", **labels}.items()))
    return operator.samples("/metrics/hooks").get(key)


def test_metric_actions(cluster: Cluster) -> None:
    operator = start(cluster, Dumps(cluster.tmp / "dump"))
    trigger(cluster, "trigger-metrics", "one")
    cluster.wait("step one served", lambda: sample(operator, "conf_gauge", kind="a") == 3)
    assert sample(operator, "conf_counter") == 5, "add accumulates within a run"
    assert sample(operator, "conf_seconds_bucket", le="1.0") == 1
    assert sample(operator, "conf_seconds_count") == 1
    assert sample(operator, "conf_grouped", item="x") == 1
    assert sample(operator, "conf_grouped", item="y") == 1

    trigger(cluster, "trigger-metrics", "two")
    cluster.wait("step two served", lambda: sample(operator, "conf_grouped", item="x") == 2)
    assert sample(operator, "conf_grouped", item="y") is None, "a group is replaced as a whole"
    assert sample(operator, "conf_counter") == 1, "the default group (the hook) restarts"
    assert sample(operator, "conf_gauge", kind="a") is None, "not written again: dropped"
    assert sample(operator, "conf_seconds_count") == 2
    assert sample(operator, "conf_seconds_bucket", le="1.0") == 1
    assert sample(operator, "conf_seconds_bucket", le="2.0") == 2

    trigger(cluster, "trigger-metrics", "three")
    cluster.wait("the group expired", lambda: sample(operator, "conf_grouped", item="x") is None)
    assert sample(operator, "conf_counter") == 1, "expire leaves other groups alone"


def test_rate_limit_allow_failure_and_named_queues(cluster: Cluster) -> None:
    dumps = Dumps(cluster.tmp / "dump")
    start(cluster, dumps)

    cluster.wait("rate.sh synchronized", lambda: dumps.runs("rate"))
    cluster.core.create_namespaced_config_map("conf", configmap("r", {"conf": "rate"}, v="0"))
    for value in range(1, 6):
        cluster.core.patch_namespaced_config_map("r", "conf", {"data": {"v": str(value)}})
    cluster.wait("the last value reached rate.sh", lambda: any(
        c.get("filterResult") == "5" for c in dumps.contexts("rate")), timeout=WAIT)
    events = [c["filterResult"] for c in dumps.contexts("rate") if c["type"] == "Event"]
    assert events == ["0", "1", "2", "3", "4", "5"], "nothing lost, in order"
    starts = [run.at for run in dumps.runs("rate")]
    assert len(starts) <= 3, "events queued during the wait are combined"
    assert all(b - a >= 1.9 for a, b in zip(starts, starts[1:])), starts

    cluster.core.create_namespaced_config_map("conf", configmap("al", {"conf": "allowed"}, v="bad"))
    cluster.wait("an allowed failure", lambda: global_hook(cluster, "allowed.sh")["lastResult"]
                 == "AllowedFailure")
    assert "refusing the bad value" in global_hook(cluster, "allowed.sh")["message"]
    cluster.core.patch_namespaced_config_map("al", "conf", {"data": {"v": "good"}})
    cluster.wait("the queue went on", lambda: global_hook(cluster, "allowed.sh")["lastResult"]
                 == "Succeeded")
    values = [c["filterResult"] for c in dumps.contexts("allowed") if c["type"] == "Event"]
    assert values == ["bad", "good"], "an allowed failure is not retried"

    cluster.core.create_namespaced_config_map("conf", configmap("s", {"conf": "slow"}))
    cluster.wait("the slow main-queue run started", lambda: dumps.runs("slow"))
    cluster.core.create_namespaced_config_map("conf", configmap("f", {"conf": "fast"}))
    cluster.wait("the fastlane run", lambda: dumps.runs("fast"), timeout=WAIT)
    assert not (dumps.directory / "slow.done").exists(), "fastlane waited for main"
    assert dumps.runs("fast")[0].at - dumps.runs("slow")[0].at < 3.5


def test_watch_resume_and_relist(cluster: Cluster) -> None:
    dumps = Dumps(cluster.tmp / "dump")
    start(cluster, dumps)
    label = {"conf": "resume"}
    cluster.wait("resume.sh synchronized", lambda: dumps.runs("resume"))

    def events() -> list[str]:
        return [f"{c['watchEvent']} {c['filterResult']}" for c in dumps.contexts("resume")
                if c["type"] == "Event"]

    cluster.core.create_namespaced_config_map("conf", configmap("r1", label, v="1"))
    cluster.wait("r1 added", lambda: events() == ["Added r1=1"])

    fault(cluster, "drop-watches")
    cluster.core.create_namespaced_config_map("conf", configmap("r2", label, v="1"))
    cluster.core.patch_namespaced_config_map("r1", "conf", {"data": {"v": "2"}})
    cluster.wait("events after the dropped watch",
                 lambda: len(events()) >= 3, timeout=WAIT)

    fault(cluster, "expire-history")
    fault(cluster, "drop-watches")
    cluster.core.create_namespaced_config_map("conf", configmap("r3", label, v="1"))
    cluster.core.delete_namespaced_config_map("r2", "conf")
    cluster.wait("events after the relist", lambda: len(events()) >= 5, timeout=WAIT)
    cluster.core.patch_namespaced_config_map("r3", "conf", {"data": {"v": "2"}})
    cluster.wait("a later event", lambda: events()[-1:] == ["Modified r3=2"], timeout=WAIT)

    got = events()
    assert got[:3] == ["Added r1=1", "Added r2=1", "Modified r1=2"]
    assert sorted(got[3:5]) == ["Added r3=1", "Deleted r2=1"]
    assert len(got) == 6, f"no duplicate after the resume or the relist: {got}"
    synchronizations = [c for c in dumps.contexts("resume") if c["type"] == "Synchronization"]
    assert synchronizations == [{"binding": "objects", "type": "Synchronization", "objects": []}]
