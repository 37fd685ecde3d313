"""The resource monitor (auto-heal) over a scripted Helm and API: an absent object or a release
that is not deployed queues one heal run with the upstream metrics and a Warning Event; busy,
suspended, disabled and never-released modules are left alone; the loop waits the interval
plus jitter and ends promptly on stop."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from addon_operator.helm import ReleaseInfo
from addon_operator.httpserver import Heartbeats
from addon_operator.kube import KubeError, NotFound, Resource
from addon_operator.metrics import OperatorMetrics
from addon_operator.queue import Task, TaskQueues, TaskType
from addon_operator.runtime.dispatch import TaskHandlers
from addon_operator.runtime.events import EventRecorder
from addon_operator.runtime.resource_monitor import ResourceMonitor
from addon_operator.runtime.state import RuntimeState
from addon_operator.runtime.status_writer import StatusWriter

from runtime_fakes import FakeHelm, FakeKube, state_of, write_module

DEPLOYMENTS = Resource("apps", "v1", "deployments", True, "Deployment")
CONFIGMAPS = Resource("", "v1", "configmaps", True, "ConfigMap")
CLUSTER_ROLES = Resource("rbac.authorization.k8s.io", "v1", "clusterroles", False, "ClusterRole")
MANIFEST = """---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-settings
  namespace: elsewhere
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {name}-reader
"""


def objects_of(name: str) -> set[tuple[str, str | None, str]]:
    return {("deployments", "addons", name), ("configmaps", "elsewhere", f"{name}-settings"),
            ("clusterroles", None, f"{name}-reader")}


class ManifestHelm(FakeHelm):
    """FakeHelm that also keeps each release's manifest; `during_manifest` runs while one is
    read (a task that starts meanwhile)."""

    def __init__(self) -> None:
        super().__init__()
        self.manifests: dict[str, str] = {}
        self.during_manifest = lambda: None

    def manifest(self, release: str) -> str | None:
        self.during_manifest()
        return self.manifests.get(release)


class Cluster:
    """The API as the monitor sees it: served kinds and existing objects."""

    def __init__(self) -> None:
        self.kinds = {r.kind: r for r in (DEPLOYMENTS, CONFIGMAPS, CLUSTER_ROLES)}
        self.objects = objects_of("web") | objects_of("other")
        self.broken = False

    def resolve_kind(self, api_version: str | None, kind_or_plural: str) -> Resource:
        if kind_or_plural not in self.kinds:
            raise NotFound(404, "NotFound", f"no resource type {kind_or_plural!r}")
        return self.kinds[kind_or_plural]

    def get(self, resource: Resource, name: str, *, namespace: str | None = None
            ) -> dict[str, Any]:
        if self.broken:
            raise KubeError(503, "ServiceUnavailable", "try later")
        if (resource.plural, namespace, name) not in self.objects:
            raise NotFound(404, "NotFound", f"{resource.plural} {name} not found")
        return {"metadata": {"name": name}}


@dataclasses.dataclass
class Parts:
    state: RuntimeState
    helm: ManifestHelm
    cluster: Cluster
    kube: FakeKube
    queues: TaskQueues
    metrics: OperatorMetrics
    monitor: ResourceMonitor
    stop: threading.Event


def deployed(name: str, status: str = "deployed") -> ReleaseInfo:
    return ReleaseInfo(name, "addons", 3, status, name, "0.1.0", checksum="c" * 32, owned=True)


@pytest.fixture
def parts(modules_root: Path, kube: FakeKube) -> Parts:
    for dirname in ("010-web", "020-other"):
        write_module(modules_root, dirname)
    write_module(modules_root, "030-hooks-only", chart=False)
    state = state_of(modules_root)
    helm, cluster, queues = ManifestHelm(), Cluster(), TaskQueues()
    for runtime in state.known():
        runtime.status.enabled = True
        if runtime.module is not None and runtime.module.has_chart:
            runtime.status.release = helm.releases[runtime.name] = deployed(runtime.name)
            helm.manifests[runtime.name] = MANIFEST.format(name=runtime.name)
    metrics, stop = OperatorMetrics(CollectorRegistry()), threading.Event()
    handlers = TaskHandlers(state, queues, StatusWriter(kube, state), metrics)
    monitor = ResourceMonitor(state, helm, cluster, queues, heal=handlers.heal,
                              events=EventRecorder(kube), metrics=metrics, namespace="addons",
                              interval=270, stop=stop, heartbeats=Heartbeats(60))
    return Parts(state, helm, cluster, kube, queues, metrics, monitor, stop)


def runs(queues: TaskQueues) -> list[tuple[str, dict[str, Any]]]:
    return [(t.key, dict(t.payload)) for t in queues.pending() if t.type is TaskType.MODULE_RUN]


def sample(metrics: OperatorMetrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(f"addon_operator_{name}", labels)
    return value or 0.0


def test_nothing_is_queued_while_every_release_is_complete(parts: Parts) -> None:
    assert parts.monitor.check_all() == []
    assert runs(parts.queues) == [] and parts.kube.events == []
    assert sorted(parts.helm.status_reads) == ["other", "web"], "hooks-only module not checked"


def test_absent_object_queues_one_heal_run_once(parts: Parts) -> None:
    parts.cluster.objects.discard(("deployments", "addons", "web"))
    parts.cluster.objects.discard(("clusterroles", None, "web-reader"))
    assert parts.monitor.check_all() == ["web"]
    why = "resources absent: addons/Deployment/web, /ClusterRole/web-reader"
    assert runs(parts.queues) == [("web", {"activation": "AbsentHelmResourcesDetected",
                                           "heal": why})]
    assert parts.kube.events == [
        ("web", "AbsentHelmResourcesDetected", why + "; a module run will upgrade the release")]
    for resource in ("addons/Deployment/web", "/ClusterRole/web-reader"):
        assert sample(parts.metrics, "modules_absent_resources_total", module="web",
                      resource=resource) == 1
    assert sample(parts.metrics, "modules_helm_release_redeployed_total", module="web") == 0

    # The heal run is pending: the module is busy, the next round leaves it alone.
    reads = len(parts.helm.status_reads)
    assert parts.monitor.check_all() == []
    assert len(runs(parts.queues)) == 1 and len(parts.kube.events) == 1
    assert parts.helm.status_reads[reads:] == ["other"]


def test_unserved_kind_counts_as_absent(parts: Parts) -> None:
    del parts.cluster.kinds["ConfigMap"]
    assert parts.monitor.check_all() == ["web", "other"]
    assert [p["heal"] for _, p in runs(parts.queues)] == [
        "resources absent: elsewhere/ConfigMap/web-settings",
        "resources absent: elsewhere/ConfigMap/other-settings"]


@pytest.mark.parametrize("release, message", [
    (deployed("web", "failed"), "release revision 3 is failed, not deployed"),
    (None, "release web is missing"),
])
def test_release_not_deployed_queues_a_run(parts: Parts, release: ReleaseInfo | None,
                                           message: str) -> None:
    if release is None:
        del parts.helm.releases["web"]
    else:
        parts.helm.releases["web"] = release
    assert parts.monitor.check_all() == ["web"]
    assert runs(parts.queues) == [("web", {"activation": "HelmReleaseUnexpectedStatus",
                                           "heal": message})]
    assert sample(parts.metrics, "modules_helm_release_redeployed_total", module="web") == 1
    assert parts.kube.events[0][:2] == ("web", "HelmReleaseUnexpectedStatus")


@pytest.mark.parametrize("task", [
    Task(TaskType.MODULE_HOOK_RUN, key="hooks/watch.sh", queue="web-queue", module="web"),
    Task(TaskType.MODULE_RUN, key="web"),
])
def test_module_with_a_pending_task_is_skipped(parts: Parts, task: Task) -> None:
    parts.queues.put(task)
    parts.cluster.objects.clear()
    assert parts.monitor.check_all() == ["other"]
    assert "web" not in parts.helm.status_reads


def test_module_with_a_running_task_is_skipped(parts: Parts) -> None:
    parts.queues.put(Task(TaskType.MODULE_HOOK_RUN, key="hooks/h.sh", module="web"))
    assert parts.queues.next_ready() is not None     # now running
    parts.cluster.objects.clear()
    assert parts.monitor.check_all() == ["other"]


def test_a_task_starting_during_the_check_drops_the_finding(parts: Parts) -> None:
    parts.cluster.objects -= objects_of("web")
    parts.helm.during_manifest = lambda: parts.queues.put(
        Task(TaskType.MODULE_HOOK_RUN, key="hooks/h.sh", queue="q", module="web"))
    assert parts.monitor.check_all() == []
    assert parts.kube.events == [] and runs(parts.queues) == []


@pytest.mark.parametrize("change", ["disabled", "suspended", "upgraded", "stopping"])
def test_a_change_that_finished_during_the_check_drops_the_finding(parts: Parts,
                                                                   change: str) -> None:
    """A delete or an upgrade that started and ended while the objects were read (no task
    left to see), a suspend, or the operator stopping: nothing reported, nothing queued."""
    web = parts.state.modules["web"]
    parts.cluster.objects -= objects_of("web")

    def meanwhile() -> None:
        if change == "disabled":   # the converge disabled it and its delete uninstalled it
            web.status.enabled, web.status.release = False, None
        elif change == "suspended":
            web.suspend = True
        elif change == "upgraded":   # a run upgraded it to a chart without these objects
            assert web.status.release is not None
            web.status.release = dataclasses.replace(web.status.release, revision=4)
        else:
            parts.stop.set()

    parts.helm.during_manifest = meanwhile
    assert parts.monitor.check_all() == []
    assert parts.kube.events == [] and runs(parts.queues) == []
    assert sample(parts.metrics, "modules_absent_resources_total", module="web",
                  resource="addons/Deployment/web") == 0


def test_round_is_skipped_while_a_converge_is_pending(parts: Parts) -> None:
    parts.queues.put(Task(TaskType.CONVERGE))
    parts.cluster.objects.clear()
    assert parts.monitor.check_all() == []
    assert parts.helm.status_reads == []


@pytest.mark.parametrize("change", ["suspend", "disabled", "no release", "invalid settings"])
def test_modules_not_watched_are_not_checked(parts: Parts, change: str) -> None:
    web = parts.state.modules["web"]
    if change == "suspend":
        web.suspend = True
    elif change == "disabled":
        web.status.enabled = False
    elif change == "no release":
        web.status.release = None
    else:
        web.status.settings_problems = ["settings.replicas: must be of type integer"]
    parts.cluster.objects.clear()
    assert parts.monitor.check_all() == ["other"]
    assert "web" not in parts.helm.status_reads


def test_api_errors_skip_the_module_not_the_round(parts: Parts) -> None:
    parts.cluster.broken = True
    assert parts.monitor.check_all() == []
    assert sorted(parts.helm.status_reads) == ["other", "web"]
    assert runs(parts.queues) == [] and parts.kube.events == []


def test_loop_waits_interval_plus_jitter_and_stops(parts: Parts, kube: FakeKube) -> None:
    waits: list[float] = []
    jitters: list[tuple[float, float]] = []
    parts.cluster.objects.clear()

    def wait(event: threading.Event, seconds: float) -> bool:
        waits.append(seconds)
        if len(waits) == 3:
            event.set()
        return event.is_set()

    def jitter(low: float, high: float) -> float:
        jitters.append((low, high))
        return 7.0

    monitor = ResourceMonitor(parts.state, parts.helm, parts.cluster, parts.queues,
                              heal=lambda m, a, w: True, events=EventRecorder(kube),
                              metrics=parts.metrics, namespace="addons", interval=20,
                              stop=parts.stop, heartbeats=Heartbeats(60), wait=wait,
                              jitter=jitter)
    monitor.loop()
    assert waits == [27.0, 27.0, 27.0] and jitters == [(0.0, 20.0)] * 3
    assert len(kube.events) == 4, "two rounds of two damaged modules, none after stop"


def test_thread_ends_promptly_on_stop_and_is_released(parts: Parts) -> None:
    heartbeats = Heartbeats(60)
    monitor = ResourceMonitor(parts.state, parts.helm, parts.cluster, parts.queues,
                              heal=lambda m, a, w: True, events=EventRecorder(parts.kube),
                              metrics=parts.metrics, namespace="addons", interval=270,
                              stop=parts.stop, heartbeats=heartbeats)
    monitor.start()
    assert any(t.name == "resource-monitor" for t in threading.enumerate())
    parts.stop.set()
    monitor.join(2.0)
    assert not any(t.name == "resource-monitor" for t in threading.enumerate())
    assert heartbeats.stale() == [], "ended on purpose: not reported by /healthz"


def test_interval_zero_turns_auto_heal_off(parts: Parts) -> None:
    monitor = ResourceMonitor(parts.state, parts.helm, parts.cluster, parts.queues,
                              heal=lambda m, a, w: True, events=EventRecorder(parts.kube),
                              metrics=parts.metrics, namespace="addons", interval=0,
                              stop=parts.stop, heartbeats=Heartbeats(60))
    monitor.start()
    assert not any(t.name == "resource-monitor" for t in threading.enumerate())
