"""Fakes shared by the binding engine tests: a kind resolver, a timer recorder, an emit/report
recorder, and object builders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from addon_operator.bindings import HookRef, RunRequest
from addon_operator.kube import NAMESPACES, NotFound, Resource, WatchEvent

CONFIGMAPS = Resource("", "v1", "configmaps", True, "ConfigMap", "configmap", ("cm",))
NODES = Resource("", "v1", "nodes", False, "Node", "node", ("no",))
HOOK = HookRef("hooks/watch.sh", "demo")


def cm(name: str, namespace: str = "default", rv: int = 1, **data: str) -> dict[str, Any]:
    """A ConfigMap as list items come from the API (no apiVersion/kind)."""
    return {"metadata": {"name": name, "namespace": namespace, "resourceVersion": str(rv)},
            "data": dict(data)}


def listing(kind: str, *items: dict[str, Any]) -> WatchEvent:
    return WatchEvent(kind, {"kind": "List", "metadata": {"resourceVersion": "1"},
                             "items": list(items)})


def ns(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


@dataclass
class FakeKube:
    """Resolves the kinds in `served`; records watch calls (the hub under test never runs
    them: it is built with a spawn that starts nothing)."""

    served: list[Resource] = field(default_factory=lambda: [CONFIGMAPS, NODES, NAMESPACES])

    def resolve_kind(self, api_version: str | None, kind_or_plural: str) -> Resource:
        for resource in self.served:
            names = {resource.kind.lower(), resource.plural, resource.singular,
                     *resource.short_names}
            if kind_or_plural.lower() in names and (
                    not api_version or api_version == resource.api_version):
                return resource
        raise NotFound(404, "NotFound", f"no resource type {kind_or_plural!r}",
                       what="discovery")

    def watch(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the unit tests drive monitors directly")


class Later:
    """Records `call_later` requests; `run()` fires them."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, Callable[[], None]]] = []
        self.cancelled = 0

    def __call__(self, delay: float, action: Callable[[], None]) -> Callable[[], None]:
        self.calls.append((delay, action))

        def cancel() -> None:
            self.cancelled += 1
        return cancel

    def run(self) -> None:
        calls, self.calls = self.calls, []
        for _, action in calls:
            action()


@dataclass
class Recorder:
    requests: list[RunRequest] = field(default_factory=list)
    reports: list[tuple[str, str | None]] = field(default_factory=list)

    def emit(self, request: RunRequest) -> None:
        self.requests.append(request)

    def report(self, hook: HookRef, binding: str, message: str | None) -> None:
        self.reports.append((binding, message))

    def take(self) -> list[RunRequest]:
        out, self.requests = self.requests, []
        return out


