"""The resource monitor: auto-heal of Helm releases (as upstream's helm resources manager does;
docs/operations.md, "Auto-heal").

A module run skips Helm while its inputs and rendered manifests are unchanged, so an object
someone deleted from the cluster (`kubectl delete deployment ...`) or a release left `failed`
would stay so until the settings change. `app.Operator` starts one `ResourceMonitor` thread
(through `Heartbeats.start`, so `/healthz` reports it should it die;
`ADDON_OPERATOR_HELM_MONITOR_INTERVAL_SECONDS=0` turns it off). Every interval plus a random
0-60 s (at most the interval) it looks at each enabled, not suspended module with a chart,
valid settings and a known release: the release must be `deployed`, and every object of its
manifest (`helm get manifest`) must exist in the cluster (a GET through the kube package;
namespaced objects without a namespace live in the release namespace; a kind the API does not
serve counts as absent). Modules with a task pending or running are skipped this round, and
the rest of a round while a converge is pending or running: hooks and Helm may delete objects
on purpose (upstream pauses its monitors during hooks and module runs); what a check found is
dropped when the module changed meanwhile (a task started, or ran and ended: the module is
disabled or suspended, its release uninstalled or upgraded). A damaged module gets
the upstream metrics, a Warning Event naming what is wrong, and one `ModuleRun` through
`TaskHandlers.heal`, which upgrades the release although nothing changed: helm's upgrade
recreates the objects missing from the cluster.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from addon_operator.helm import HelmError, ManifestObject, ReleaseInfo, manifest_objects
from addon_operator.httpserver import Heartbeats
from addon_operator.kube import WARNING, KubeError, NotFound, Resource
from addon_operator.logs import bind
from addon_operator.metrics import OperatorMetrics
from addon_operator.queue import TaskQueues, TaskType

from .events import EventRecorder
from .state import ModuleRuntime, RuntimeState

log = logging.getLogger(__name__)

# Upstream's event descriptions; here the Event reasons and the runs' `activation`.
UNEXPECTED_STATUS = "HelmReleaseUnexpectedStatus"
RESOURCES_ABSENT = "AbsentHelmResourcesDetected"
MAX_JITTER = 60.0
NAMED_ABSENT = 10      # absent objects named in a message; the rest are counted

Heal = Callable[[str, str, str], bool]          # (module, activation, why) -> queued
Wait = Callable[[threading.Event, float], bool]  # True once the event is set
Jitter = Callable[[float, float], float]         # random.uniform


class MonitorHelm(Protocol):
    """What the monitor needs from `helm.HelmClient`."""

    def status(self, release: str) -> ReleaseInfo | None: ...
    def manifest(self, release: str) -> str | None: ...


class ObjectReader(Protocol):
    """What the monitor needs from `kube.KubeClient`."""

    def resolve_kind(self, api_version: str | None, kind_or_plural: str) -> Resource: ...
    def get(self, resource: Resource, name: str, *, namespace: str | None = None
            ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Finding:
    """What is wrong with one release: `reason` (an upstream event description), a message,
    and the absent objects as `<ns>/<Kind>/<name>`."""

    reason: str
    message: str
    absent: tuple[str, ...] = ()


def _wait(event: threading.Event, seconds: float) -> bool:
    return event.wait(seconds)


class ResourceMonitor:
    """Checks the releases of the enabled modules every interval and queues heal runs."""

    def __init__(self, state: RuntimeState, helm: MonitorHelm, kube: ObjectReader,
                 queues: TaskQueues, *, heal: Heal, events: EventRecorder,
                 metrics: OperatorMetrics, namespace: str, interval: float,
                 stop: threading.Event, heartbeats: Heartbeats, wait: Wait = _wait,
                 jitter: Jitter = random.uniform) -> None:
        self._state = state
        self._helm = helm
        self._kube = kube
        self._queues = queues
        self._heal = heal
        self._events = events
        self._metrics = metrics
        self._namespace = namespace
        self._interval = interval
        self._stop = stop
        self._heartbeats = heartbeats
        self._wait = wait
        self._jitter = jitter
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the monitor's thread (not when the interval is 0: auto-heal is off)."""
        if self._interval <= 0:
            log.info("resource monitor off (interval 0)")
            return
        self._thread = self._heartbeats.start(self.loop, "resource-monitor")

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def loop(self) -> None:
        """Rounds until `stop`; a failing round is logged and the next one comes as usual."""
        while not self._wait(self._stop, self._delay()):
            try:
                self.check_all()
            except Exception:  # a bug must not end auto-heal for good
                log.exception("resource monitor: the round failed")

    def check_all(self) -> list[str]:
        """One round over the watched modules; the names of those queued for healing."""
        healed: list[str] = []
        checked = 0
        for runtime in self._state.known():
            if self._stop.is_set() or self._converging():
                break
            if not self._watched(runtime) or self._queues.busy(runtime.name):
                continue
            logger = bind(log, module=runtime.name)
            checked += 1
            release = runtime.status.release
            try:
                finding = self.inspect(runtime.name)
            except (HelmError, KubeError) as exc:
                logger.warning("resource monitor: cannot check the release: %s", exc)
                continue
            if finding is None or self._changed(runtime, release):
                continue
            self._report(runtime, finding)
            if self._heal(runtime.name, finding.reason, finding.message):
                healed.append(runtime.name)
        log.debug("resource monitor: round done, %d releases checked, %d to heal", checked,
                  len(healed))
        return healed

    def inspect(self, release: str) -> Finding | None:
        """What is wrong with `release`; None when it is deployed and complete."""
        info = self._helm.status(release)
        if info is None:
            return Finding(UNEXPECTED_STATUS, f"release {release} is missing")
        if info.status != "deployed":
            return Finding(UNEXPECTED_STATUS,
                           f"release revision {info.revision} is {info.status}, not deployed")
        manifest = self._helm.manifest(release)
        if manifest is None:
            return Finding(UNEXPECTED_STATUS, f"release {release} is missing")
        objects = manifest_objects(manifest, release)
        absent = tuple(key for key, exists in map(self._locate, objects) if not exists)
        if not absent:
            return None
        named = ", ".join(absent[:NAMED_ABSENT])
        more = f" and {len(absent) - NAMED_ABSENT} more" if len(absent) > NAMED_ABSENT else ""
        return Finding(RESOURCES_ABSENT, f"resources absent: {named}{more}", absent)

    def _locate(self, obj: ManifestObject) -> tuple[str, bool]:
        """`<ns>/<Kind>/<name>` of `obj` (ns empty for cluster-scoped kinds) and whether it
        exists; a kind the API does not serve counts as absent."""
        try:
            resource = self._kube.resolve_kind(obj.api_version or None, obj.kind)
        except NotFound:
            return f"{obj.namespace}/{obj.kind}/{obj.name}", False
        namespace = (obj.namespace or self._namespace) if resource.namespaced else None
        key = f"{namespace or ''}/{obj.kind}/{obj.name}"
        try:
            self._kube.get(resource, obj.name, namespace=namespace)
        except NotFound:
            return key, False
        return key, True

    def _report(self, runtime: ModuleRuntime, finding: Finding) -> None:
        name = runtime.name
        if finding.reason == UNEXPECTED_STATUS:
            self._metrics.modules_helm_release_redeployed_total.labels(module=name).inc()
        for resource in finding.absent:
            self._metrics.modules_absent_resources_total.labels(
                module=name, resource=resource).inc()
        message = f"{finding.message}; a module run will upgrade the release"
        self._events.post(runtime.involved, WARNING, finding.reason, message)
        bind(log, module=name).warning("resource monitor: %s", message)

    def _changed(self, runtime: ModuleRuntime, release: ReleaseInfo | None) -> bool:
        """Whether what was seen may be out of date: a task started meanwhile (hooks and Helm
        delete objects on purpose), or one started and ended (a delete uninstalled the
        release, a run upgraded it), the module is no longer watched, or the operator stops."""
        return (self._stop.is_set() or self._queues.busy(runtime.name) or self._converging()
                or not self._watched(runtime) or runtime.status.release != release)

    def _delay(self) -> float:
        return self._interval + self._jitter(0.0, min(MAX_JITTER, self._interval))

    @staticmethod
    def _watched(runtime: ModuleRuntime) -> bool:
        status = runtime.status
        return (runtime.module is not None and runtime.module.has_chart and not runtime.suspend
                and status.enabled is True and not status.settings_problems
                and status.release is not None)

    def _converging(self) -> bool:
        return self._queues.busy(TaskType.CONVERGE.value)   # the subject of a converge task
