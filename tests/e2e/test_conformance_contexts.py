"""Binding-context conformance: real bash+jq and Python hooks run by the operator against the
sandbox dump every context they receive (testdata/conformance/<scenario>/); the dumps, with
resourceVersion, uid and timestamps normalised, must equal testdata/conformance/expected/*.json
(shell-operator's binding-context shapes, as docs/hooks.md, "Binding contexts", gives them)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance_support import TESTDATA, Dumps, Run, configmap, expected
from e2e_support import Cluster, OperatorHandle

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox_only(
    reason="the hooks dump their binding contexts into the test's local directory")]

WAIT = 30.0


def start(cluster: Cluster, scenario: str, dumps: Dumps, *, with_modules: bool = False
          ) -> OperatorHandle:
    modules = TESTDATA / scenario / "modules"
    if not with_modules:
        modules = cluster.tmp / "no-modules"
        modules.mkdir(exist_ok=True)
    operator = cluster.operator(modules_dir=modules,
                                global_hooks_dir=TESTDATA / scenario / "global-hooks",
                                **dumps.env())
    operator.wait_ready()
    return operator


def namespaces(cluster: Cluster, *names: str) -> None:
    for name in names:
        cluster.core.create_namespace({"metadata": {"name": name}})


def test_kubernetes_contexts_with_and_without_jq_filter_and_v0(cluster: Cluster) -> None:
    """Synchronization with objects (sorted) and with none, Added/Modified/Deleted with full
    objects, with `filterResult` only under a jqFilter, without `object` when
    keepFullObjectsInMemory is false; a change that leaves the filter result alone runs only the
    unfiltered binding; a v0 hook gets onStartup and v0 events, never a Synchronization."""
    kube = {"conf": "kube"}
    namespaces(cluster, "conf")
    cluster.core.create_namespaced_config_map("conf", configmap("kube-b", kube, value="b1"))
    cluster.core.create_namespaced_config_map("conf", configmap("kube-a", kube, value="a1"))
    dumps = Dumps(cluster.tmp / "dump")
    start(cluster, "kube", dumps)

    cluster.core.create_namespaced_config_map("conf", configmap("kube-c", kube, value="c1"))
    cluster.core.patch_namespaced_config_map("kube-a", "conf",
                                             {"metadata": {"annotations": {"touched": "yes"}}})
    cluster.core.patch_namespaced_config_map("kube-a", "conf", {"data": {"value": "a2"}})
    cluster.core.delete_namespaced_config_map("kube-c", "conf")

    want: dict[str, dict[str, list[Any]]] = expected("kubernetes.json")

    def received() -> dict[str, dict[str, list[Any]]]:
        return {hook: {binding: dumps.contexts(hook, binding) for binding in bindings}
                for hook, bindings in want.items()}

    cluster.wait("every hook got its Deleted event",
                 lambda: all(len(got) >= len(want[hook][binding])
                             for hook, bindings in received().items()
                             for binding, got in bindings.items()), timeout=WAIT)
    assert received() == want


def test_groups_snapshots_and_combining(cluster: Cluster) -> None:
    """Group contexts carry `groupName` and the group's snapshots only; `includeSnapshotsFrom`
    snapshots are sorted by namespace then name; events queued while a run is busy reach the next
    run as one array, same-group contexts compacted to the last; a Synchronization without a
    group runs alone."""
    namespaces(cluster, "conf", "conf2")
    cluster.core.create_namespaced_config_map("conf", configmap("ga-1", {"conf": "group-a"},
                                                                k="a"))
    dumps = Dumps(cluster.tmp / "dump")
    start(cluster, "groups", dumps)
    want = expected("groups.json")

    for namespace, name, x in (("conf2", "gb-a", "1"), ("conf", "gb-z", "2"),
                               ("conf", "gb-b", "3")):
        cluster.core.create_namespaced_config_map(namespace, configmap(name, {"conf": "group-b"},
                                                                       x=x))
    cluster.wait("a Group context with all three group-b objects",
                 lambda: (dumps.contexts("groups", "group-b") or [{}])[-1] == want["group-settled"],
                 timeout=WAIT)
    groups = [c for c in dumps.contexts("groups") if c["type"] == "Group"]
    assert {c["binding"] for c in groups} <= {"group-a", "group-b"}
    assert all(set(c) == {"binding", "type", "groupName", "snapshots"} for c in groups), groups
    assert dumps.contexts("groups", "watcher") == [want["watcher-synchronization"]]

    cluster.core.create_namespaced_config_map("conf2", configmap("snap-1", {"conf": "snap"}))
    cluster.wait("the watcher Event", lambda: len(dumps.contexts("groups", "watcher")) == 2,
                 timeout=WAIT)
    assert dumps.contexts("groups", "watcher")[-1] == want["watcher-event"]

    cluster.wait("combine hook synchronized", lambda: dumps.runs("combine"), timeout=WAIT)
    cluster.core.create_namespaced_config_map("conf", configmap("slow", {"conf": "combine"}))
    cluster.wait("the slow run started", lambda: any(
        c.get("filterResult") == "slow" for c in dumps.contexts("combine")), timeout=WAIT)
    for name in ("c-1", "c-2", "c-3"):
        cluster.core.create_namespaced_config_map("conf", configmap(name, {"conf": "combine"}))
    for name, label in (("burst-a-1", "burst-a"), ("burst-b-1", "burst-b"),
                        ("burst-a-2", "burst-a")):
        cluster.core.create_namespaced_config_map("conf", configmap(name, {"conf": label}))
    settled = want["combined-run"]
    items, group = [c for c in settled if c["binding"] == "items"], settled[-1]

    def settled_group(context: dict[str, Any]) -> bool:
        """The group's context with all three objects; its `binding` is that of the last event,
        and the two bindings' watches may deliver in either order."""
        return (context.get("binding") in ("burst-a", "burst-b")
                and {**context, "binding": group["binding"]} == group)

    def after_slow() -> list[Run]:
        runs = dumps.runs("combine")
        slow = max(i for i, run in enumerate(runs)
                   if any(c.get("filterResult") == "slow" for c in run.contexts))
        return runs[slow + 1:]

    cluster.wait("the combined run", lambda: any(
        settled_group(c) for run in after_slow() for c in run.contexts), timeout=WAIT)
    later = after_slow()
    assert len(later) == 1, f"one run with every queued context, got {later}"
    contexts = later[0].contexts
    # `items` and the `burst` group are separate watches, so their events may interleave; each
    # watch keeps its order, and consecutive contexts of the group are compacted to the last.
    assert [c for c in contexts if c["binding"] == "items"] == items, contexts
    assert settled_group(contexts[-1]) or contexts[-1] == items[-1], contexts
    assert settled_group([c for c in contexts if c["type"] == "Group"][-1]), contexts
    assert not any(a.get("groupName") == b.get("groupName") == "burst"
                   for a, b in zip(contexts, contexts[1:])), contexts
    assert len(contexts) <= len(items) + 3, contexts
    synchronizations = [run for run in dumps.runs("combine") if any(
        c["type"] == "Synchronization" for c in run.contexts)]
    assert synchronizations and all(len(run.contexts) == 1 for run in synchronizations)


def test_schedule_and_lifecycle_contexts(cluster: Cluster) -> None:
    """Schedule contexts (with and without snapshots, grouped), global onStartup without type,
    beforeAll/afterAll with the hook's snapshots, module onStartup and Helm hooks with
    `snapshots: {}`, the delete hooks when the module is disabled."""
    namespaces(cluster, "conf")
    cluster.core.create_namespaced_config_map("conf", configmap("s-1", {"conf": "sched"}))
    dumps = Dumps(cluster.tmp / "dump")
    start(cluster, "timed", dumps, with_modules=True)
    want = expected("timed.json")

    cluster.wait("every schedule fired", lambda: {
        c["binding"] for c in dumps.contexts("schedule")} == set(want["schedule"]), timeout=WAIT)
    for context in dumps.contexts("schedule"):
        assert context == want["schedule"][context["binding"]]
    assert [run.contexts for run in dumps.runs("global-lifecycle")][:3] == want["global-lifecycle"]
    assert [run.contexts for run in dumps.runs("module-lifecycle")] == want["module-lifecycle"][:3]

    cluster.patch_module("lifecycle", {"enabled": False})
    cluster.wait("the delete hooks ran", lambda: len(dumps.runs("module-lifecycle")) == 5,
                 timeout=WAIT)
    assert [run.contexts for run in dumps.runs("module-lifecycle")] == want["module-lifecycle"]
