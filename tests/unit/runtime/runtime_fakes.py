"""Fakes for the runtime's unit tests: a recording Kubernetes port, a scripted Helm, module
trees written to a temporary directory, and the runtime parts built on them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from addon_operator.bindings import HookBindings
from addon_operator.discovery import discover
from addon_operator.helm import ReleaseInfo
from addon_operator.kube import Conflict, KubeError, Listing, NotFound, Resource, WatchEvent
from addon_operator.metrics import HookMetrics, OperatorMetrics
from addon_operator.models import Discovery
from addon_operator.queue import Task, TaskQueues
from addon_operator.runtime.binding_runs import BindingRuns
from addon_operator.runtime.converge import Converger
from addon_operator.runtime.events import EventRecorder
from addon_operator.runtime.hook_runs import LifecycleHooks
from addon_operator.runtime.state import RuntimeState
from addon_operator.runtime.status_writer import StatusWriter
from addon_operator.runtime.worker import Attempts, Flag
from addon_operator.values import Schemas


class FakeKube:
    """In-memory objects by (plural, name); records status patches, creations, server-side
    applies and Events; `refuse_apply` names objects whose apply the API refuses."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.status_patches: list[tuple[str, str, dict[str, Any]]] = []
        self.created: list[tuple[str, str]] = []
        self.events: list[tuple[str, str, str]] = []
        self.missing_status: set[str] = set()
        self.applied: list[tuple[str, dict[str, Any], str, bool]] = []
        self.refuse_apply: set[str] = set()

    def add(self, plural: str, name: str, spec: dict[str, Any] | None = None,
            generation: int = 1, status: dict[str, Any] | None = None) -> dict[str, Any]:
        obj = {"metadata": {"name": name, "uid": f"uid-{name}", "generation": generation},
               "spec": spec or {}}
        if status:
            obj["status"] = status
        self.objects[(plural, name)] = obj
        return obj

    def list(self, resource: Resource) -> Listing:
        items = [o for (plural, _), o in sorted(self.objects.items()) if plural == resource.plural]
        return Listing(items, "7")

    def create(self, resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        name = obj["metadata"]["name"]
        if (resource.plural, name) in self.objects:
            raise Conflict(409, "AlreadyExists", f"{name} exists")
        self.created.append((resource.plural, name))
        return self.add(resource.plural, name, obj.get("spec"))

    def apply(self, resource: Resource, obj: dict[str, Any], *,
              field_manager: str = "addon-operator", force: bool = True) -> dict[str, Any]:
        name = obj["metadata"]["name"]
        if name in self.refuse_apply:
            raise KubeError(422, "Invalid", "spec.versions: Required value",
                            what=resource.describe(name))
        self.applied.append((resource.plural, obj, field_manager, force))
        return obj

    def patch_status(self, resource: Resource, name: str, status: dict[str, Any], *,
                     namespace: str | None = None) -> dict[str, Any]:
        if name in self.missing_status:
            raise NotFound(404, "NotFound", f"{name} not found")
        self.status_patches.append((resource.plural, name, status))
        return {}

    def post_event(self, involved: dict[str, Any], *, type: str, reason: str, message: str,
                   component: str = "addon-operator") -> dict[str, Any]:
        self.events.append((involved["metadata"]["name"], reason, message))
        return {}

    def watch(self, resource: Resource, *, stop: threading.Event,
              resource_version: str | None = None) -> Iterator[WatchEvent]:
        return iter(())


class FakeHelm:
    """Releases in memory; records status reads, upgrades and uninstalls."""

    def __init__(self) -> None:
        self.releases: dict[str, ReleaseInfo] = {}
        self.status_reads: list[str] = []
        self.upgrades: list[str] = []
        self.uninstalls: list[str] = []
        self.rendered: dict[str, str] = {}

    def render(self, release: str, chart_dir: Path, values_file: Path) -> str:
        text = values_file.read_text()
        self.rendered[release] = text
        return text

    def status(self, release: str) -> ReleaseInfo | None:
        self.status_reads.append(release)
        return self.releases.get(release)

    def upgrade(self, release: str, chart_dir: Path, values_file: Path, checksum: str) -> ReleaseInfo:
        self.upgrades.append(release)
        previous = self.releases.get(release)
        info = ReleaseInfo(release, "addons", previous.revision + 1 if previous else 1, "deployed",
                           release, "0.1.0", checksum=checksum, owned=True)
        self.releases[release] = info
        return info

    def uninstall(self, release: str) -> bool:
        self.uninstalls.append(release)
        return self.releases.pop(release, None) is not None

    def list_releases(self) -> list[ReleaseInfo]:
        return list(self.releases.values())


def write_module(root: Path, dirname: str, *, hooks: dict[str, str] | None = None,
                 chart: bool = True, config_schema: str | None = None) -> None:
    module = root / dirname
    (module / "templates").mkdir(parents=True) if chart else module.mkdir(parents=True)
    if chart:
        (module / "templates" / "cm.yaml").write_text("kind: ConfigMap\n")
    if config_schema:
        (module / "openapi").mkdir()
        (module / "openapi" / "config-values.yaml").write_text(config_schema)
    for name, body in (hooks or {}).items():
        path = module / "hooks" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        path.chmod(0o755)


def hook_script(config: str, body: str = "") -> str:
    """A bash hook printing `config` for --config and running `body` otherwise."""
    return (f"#!/usr/bin/env bash\nset -euo pipefail\nif [[ ${{1:-}} == --config ]]; then\n"
            f"  echo '{config}'\n  exit 0\nfi\n{body}\n")


def state_of(root: Path, *, stall_after: int = 3) -> RuntimeState:
    discovery: Discovery = discover([root], None)
    return RuntimeState(discovery, Schemas(), [], stall_after)


def global_state(tmp_path: Path, modules_root: Path, hooks: dict[str, str]) -> RuntimeState:
    """A state with global hooks (`hooks`: name → script) and a global values schema."""
    hooks_dir = tmp_path / "global-hooks"
    for name, body in hooks.items():
        path = hooks_dir / "hooks" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        path.chmod(0o755)
    (hooks_dir / "openapi").mkdir(parents=True)
    (hooks_dir / "openapi" / "values.yaml").write_text(
        "type: object\nproperties:\n  size:\n    type: integer\n")
    discovery = discover([modules_root], hooks_dir)
    g = discovery.global_
    return RuntimeState(discovery, Schemas.load(g.config_schema, g.values_schema, owner="global"),
                        [], 3)


def binding_runs(state: RuntimeState, hooks: LifecycleHooks, kube: FakeKube,
                 queues: TaskQueues | None = None, requeue: Callable[[str], None] = lambda name: None
                 ) -> BindingRuns:
    """The real bindings side of the runtime over the fake API (no binding starts a watch
    unless a hook has kubernetes bindings)."""
    queues = queues or TaskQueues()
    runs = BindingRuns(state, hooks, queues, ensure_queue=queues.ensure, request=state.request,
                       requeue=requeue, sync_timeout=5, sleep=lambda s: None)
    runs.attach(HookBindings(kube, emit=runs.emit, report=runs.report))
    hooks.use_snapshots(runs.snapshots)
    return runs


def lifecycle_hooks(state: RuntimeState, kube: FakeKube, tmp_path: Path,
                    **env: str) -> LifecycleHooks:
    return LifecycleHooks(state, tmp_dir=tmp_path / "hook-files", timeout=10,
                          env={"PATH": "/usr/bin:/bin", **env},
                          events=EventRecorder(kube), metrics=OperatorMetrics(CollectorRegistry()),
                          hook_metrics=HookMetrics(CollectorRegistry()), patcher=kube)


class Unwaited(Attempts):
    """No worker takes the queued tasks here, so the converge does not wait for them."""

    def wait(self, tasks: Iterable[tuple[Task, int]], queues: TaskQueues, stop: Flag) -> None:
        return None


def converger(modules_root: Path, tmp_path: Path, kube: FakeKube, helm: FakeHelm | None = None,
              queues: TaskQueues | None = None, attempts: Attempts | None = None
              ) -> tuple[RuntimeState, Converger]:
    """A converger over modules a (weight 10), b and c (20) and d (30)."""
    for dirname in ("010-a", "020-b", "020-c", "030-d"):
        write_module(modules_root, dirname)
    state = state_of(modules_root)
    hooks = lifecycle_hooks(state, kube, tmp_path)
    conv = Converger(state, hooks, queues or TaskQueues(),
                     bindings=binding_runs(state, hooks, kube), attempts=attempts or Unwaited(),
                     stop=threading.Event(), run_script=lambda *a: None,
                     metrics=OperatorMetrics(CollectorRegistry()),
                     writer=StatusWriter(kube, state), request=state.request,
                     helm=helm or FakeHelm())
    return state, conv
