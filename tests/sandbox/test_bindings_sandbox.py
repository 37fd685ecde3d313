"""Kubernetes bindings against the sandbox API server through the real `KubeClient`:
Synchronization then events, change suppression, watch resume after dropped watches, relist
after 410 without a second Synchronization, a CRD that appears after the binding."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from addon_operator.bindings import HookBindings, HookRef, RunRequest
from addon_operator.bindings.monitor import call_later
from addon_operator.hooks import parse_hook_config
from addon_operator.kube import KubeClient, Listing, Resource
from kube_sandbox import SandboxServer

HOOK = HookRef("hooks/cm.sh", "demo")
WAIT = 10.0
QUIET = 0.6


class CountingKube(KubeClient):
    """The real client, counting list calls (a relist shows up as one more)."""

    lists = 0

    def list(self, resource: Resource, **options: Any) -> Listing:
        self.lists += 1
        return super().list(resource, **options)


class Requests:
    def __init__(self) -> None:
        self.queue: queue.Queue[RunRequest] = queue.Queue()
        self.reports: list[tuple[str, str | None]] = []
        self.reported = threading.Event()

    def emit(self, request: RunRequest) -> None:
        self.queue.put(request)

    def report(self, hook: HookRef, binding: str, message: str | None) -> None:
        self.reports.append((binding, message))
        self.reported.set()

    def next(self) -> RunRequest:
        return self.queue.get(timeout=WAIT)

    def none(self) -> bool:
        try:
            extra = self.queue.get(timeout=QUIET)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected request {extra}")


@pytest.fixture
def kube(fresh_sandbox: SandboxServer) -> Iterator[CountingKube]:
    kube = CountingKube.from_kubeconfig(fresh_sandbox.kubeconfig_path, watch_timeout_seconds=5)
    yield kube
    kube.close()


@pytest.fixture
def requests() -> Requests:
    return Requests()


@pytest.fixture
def engine(kube: CountingKube, requests: Requests) -> Iterator[HookBindings]:
    def faster(delay: float, action: Callable[[], None]) -> Callable[[], None]:
        return call_later(delay / 10, action)

    engine = HookBindings(kube, emit=requests.emit, report=requests.report, later=faster)
    yield engine
    engine.stop()


def configmap(core: client.CoreV1Api, name: str, *, labels: dict[str, str], **data: str) -> None:
    core.create_namespaced_config_map("default", {"metadata": {"name": name, "labels": labels},
                                                  "data": data})


def enable(engine: HookBindings, config: dict[str, Any]) -> None:
    engine.enable_kubernetes(HOOK, parse_hook_config(config, hook=HOOK.name, kind="module"))


CM_BINDING = {"configVersion": "v1", "kubernetes": [{
    "name": "cms", "kind": "cm", "labelSelector": {"matchLabels": {"app": "x"}},
    "jqFilter": "{name: .metadata.name, value: .data.value}", "keepFullObjectsInMemory": False,
}]}


def test_synchronization_events_and_change_suppression(
        engine: HookBindings, requests: Requests, fresh_client: client.ApiClient) -> None:
    core = client.CoreV1Api(fresh_client)
    configmap(core, "b", labels={"app": "x"}, value="1")
    configmap(core, "a", labels={"app": "x"}, value="2")
    configmap(core, "other", labels={"app": "y"}, value="3")
    enable(engine, CM_BINDING)
    sync = requests.next()
    contexts = engine.contexts(HOOK, [sync])
    assert contexts[0].to_v1() == {"binding": "cms", "type": "Synchronization", "objects": [
        {"filterResult": {"name": "a", "value": "2"}},
        {"filterResult": {"name": "b", "value": "1"}}]}
    engine.done([sync])
    assert engine.synchronized(HOOK)
    core.patch_namespaced_config_map("a", "default", {"metadata": {"annotations": {"n": "1"}}})
    core.patch_namespaced_config_map("a", "default", {"data": {"value": "20"}})
    modified = requests.next()
    assert engine.contexts(HOOK, [modified])[0].to_v1() == {
        "binding": "cms", "type": "Event", "watchEvent": "Modified",
        "filterResult": {"name": "a", "value": "20"}}
    core.delete_namespaced_config_map("b", "default")
    assert requests.next().context.watch_event == "Deleted"
    assert requests.none()  # the annotation-only change was suppressed


def test_watch_resumes_after_dropped_watches_and_relists_after_410(
        engine: HookBindings, requests: Requests, kube: CountingKube,
        fresh_sandbox: SandboxServer, fresh_client: client.ApiClient) -> None:
    core = client.CoreV1Api(fresh_client)
    configmap(core, "a", labels={"app": "x"}, value="1")
    enable(engine, CM_BINDING)
    engine.done([requests.next()])
    lists = kube.lists
    fresh_sandbox.faults.drop_watches()
    configmap(core, "b", labels={"app": "x"}, value="2")
    assert requests.next().context.item == {"filterResult": {"name": "b", "value": "2"}}
    assert kube.lists == lists  # resumed from its resourceVersion, not listed again
    # Keep the watch down while objects change and the history expires: the resume gets 410.
    fresh_sandbox.faults.fail(r"^/api/v1/configmaps$", method="GET", status=503, seconds=1.5)
    fresh_sandbox.faults.drop_watches()
    core.patch_namespaced_config_map("a", "default", {"data": {"value": "10"}})
    configmap(core, "c", labels={"app": "x"}, value="3")
    fresh_sandbox.faults.expire_history()
    changes = sorted((r.synchronization, r.context.watch_event,
                      r.context.item["filterResult"]["name"])
                     for r in (requests.next(), requests.next()))
    assert changes == [(False, "Added", "c"), (False, "Modified", "a")]
    assert kube.lists == lists + 1  # 410 made it list again ...
    assert requests.none()  # ... without a second Synchronization or repeated events


WIDGETS_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.demo.example.com"},
    "spec": {"group": "demo.example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                 "openAPIV3Schema": {"type": "object",
                                     "x-kubernetes-preserve-unknown-fields": True}}}]},
}


def test_kind_that_appears_later_is_reported_then_picked_up(
        engine: HookBindings, requests: Requests, fresh_client: client.ApiClient) -> None:
    enable(engine, {"configVersion": "v1", "kubernetes": [{"name": "widgets", "kind": "wd"}]})
    assert requests.reported.wait(WAIT)
    binding, message = requests.reports[0]
    assert binding == "widgets" and "kind 'wd' is not served" in (message or "")
    assert not engine.synchronized(HOOK)
    client.ApiextensionsV1Api(fresh_client).create_custom_resource_definition(WIDGETS_CRD)
    client.CustomObjectsApi(fresh_client).create_namespaced_custom_object(
        "demo.example.com", "v1", "default", "widgets",
        {"apiVersion": "demo.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}})
    sync = requests.next()
    (context,) = engine.contexts(HOOK, [sync])
    assert [item["object"]["metadata"]["name"] for item in context.objects] == ["w1"]
    assert context.objects[0]["object"]["kind"] == "Widget"
    assert requests.reports[-1] == ("widgets", None)
    engine.done([sync])
    assert engine.synchronized(HOOK)
