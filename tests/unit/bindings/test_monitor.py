"""A binding monitor driven with watch events: sources, Synchronization, locking, namespaces,
unknown kinds."""

from __future__ import annotations

from binding_fakes import CONFIGMAPS, HOOK, NODES, FakeKube, Later, Recorder, cm, listing, ns

from addon_operator.bindings import BindingMonitor, WatchHub, WatchKey
from addon_operator.hooks import (
    FieldRequirement, KubernetesBinding, LabelSelector, NamespaceSelector,
)
from addon_operator.kube import ADDED, DELETED, MODIFIED, NAMESPACES, RELIST, SYNC, WatchEvent


def monitor_for(binding: KubernetesBinding, hub: WatchHub, kube: FakeKube, recorder: Recorder,
                later: Later | None = None) -> BindingMonitor:
    serials = iter(range(1, 10_000))
    return BindingMonitor(HOOK, binding, hub=hub, resolver=kube, emit=recorder.emit,
                          report=recorder.report, next_serial=lambda: next(serials),
                          later=later or Later())


def test_one_source_per_namespace_and_name_with_server_side_selectors(
        hub: WatchHub, kube: FakeKube, recorder: Recorder) -> None:
    binding = KubernetesBinding(
        "b", "cm", name_selector=("x", "y"),
        label_selector=LabelSelector(match_labels=(("app", "web"),)),
        field_selector=(FieldRequirement("data.k", "!=", "v"),),
        namespace=NamespaceSelector(match_names=("n1", "n2")))
    monitor_for(binding, hub, kube, recorder).start()
    assert sorted((k.namespace, k.field_selector) for k in hub.keys()) == [
        ("n1", "data.k!=v,metadata.name=x"), ("n1", "data.k!=v,metadata.name=y"),
        ("n2", "data.k!=v,metadata.name=x"), ("n2", "data.k!=v,metadata.name=y")]
    assert {k.label_selector for k in hub.keys()} == {"app=web"}


def test_bindings_with_the_same_selectors_share_one_stream(
        hub: WatchHub, kube: FakeKube, recorder: Recorder) -> None:
    first = monitor_for(KubernetesBinding("a", "ConfigMap", jq_filter=".data"), hub, kube,
                        recorder)
    second = monitor_for(KubernetesBinding("b", "configmaps"), hub, kube, recorder)
    first.start()
    second.start()
    assert hub.keys() == [WatchKey(CONFIGMAPS)]
    first.stop()
    assert hub.keys() == [WatchKey(CONFIGMAPS)]
    second.stop()
    assert hub.keys() == []


def test_cluster_scoped_kind_ignores_namespace_selector(
        hub: WatchHub, kube: FakeKube, recorder: Recorder) -> None:
    monitor_for(KubernetesBinding("b", "Node", namespace=NamespaceSelector(("n1",))), hub, kube,
                recorder).start()
    assert hub.keys() == [WatchKey(NODES)]


def test_synchronization_after_every_source_listed_then_events_locked_until_done(
        hub: WatchHub, kube: FakeKube, recorder: Recorder) -> None:
    binding = KubernetesBinding("b", "ConfigMap", namespace=NamespaceSelector(("n1", "n2")),
                                jq_filter=".data.x")
    monitor = monitor_for(binding, hub, kube, recorder)
    monitor.start()
    k1, k2 = sorted(hub.keys(), key=lambda k: k.namespace or "")
    monitor.on_watch_event(k1, listing(SYNC, cm("b", "n1", x="1")))
    assert recorder.take() == []
    monitor.on_watch_event(k2, listing(SYNC, cm("a", "n2", x="2")))
    (sync,) = recorder.take()
    assert sync.synchronization and sync.run_hook and sync.wait and sync.queue == "main"
    assert sync.context.type == "Synchronization"
    monitor.on_watch_event(k1, WatchEvent(MODIFIED, cm("b", "n1", x="changed")))
    assert recorder.take() == []  # locked
    items = monitor.take_synchronization()  # the run reads the state, the held event is in it
    assert [i["filterResult"] for i in items] == ["changed", "2"]
    monitor.on_watch_event(k2, WatchEvent(ADDED, cm("c", "n2", x="3")))
    monitor.unlock()
    (event,) = recorder.take()  # held since the Synchronization read: released
    assert event.context.watch_event == "Added" and event.context.item["filterResult"] == "3"
    monitor.on_watch_event(k2, WatchEvent(DELETED, cm("c", "n2", x="3")))
    assert [r.context.watch_event for r in recorder.take()] == ["Deleted"]


def test_relist_sends_changes_not_a_second_synchronization(
        hub: WatchHub, kube: FakeKube, recorder: Recorder) -> None:
    monitor = monitor_for(KubernetesBinding("b", "ConfigMap"), hub, kube, recorder)
    monitor.start()
    (key,) = hub.keys()
    monitor.on_watch_event(key, listing(SYNC, cm("a")))
    monitor.unlock()
    recorder.take()
    monitor.on_watch_event(key, listing(RELIST, cm("a"), cm("b")))
    assert [(r.synchronization, r.context.watch_event) for r in recorder.take()] == \
        [(False, "Added")]


def test_execute_hook_on_event_filters_but_cache_follows(
        hub: WatchHub, kube: FakeKube, recorder: Recorder) -> None:
    binding = KubernetesBinding("b", "ConfigMap", execute_hook_on_event=("Deleted",),
                                execute_hook_on_synchronization=False, queue="side",
                                wait_for_synchronization=False)
    monitor = monitor_for(binding, hub, kube, recorder)
    monitor.start()
    (key,) = hub.keys()
    monitor.on_watch_event(key, listing(SYNC))
    (sync,) = recorder.take()
    assert not sync.run_hook and not sync.wait and sync.queue == "side"
    monitor.unlock()
    monitor.on_watch_event(key, WatchEvent(ADDED, cm("a")))
    assert recorder.take() == [] and len(monitor.snapshot()) == 1
    monitor.on_watch_event(key, WatchEvent(DELETED, cm("a")))
    assert [r.context.watch_event for r in recorder.take()] == ["Deleted"]


def test_grouped_binding_makes_group_contexts(
        hub: WatchHub, kube: FakeKube, recorder: Recorder) -> None:
    monitor = monitor_for(KubernetesBinding("b", "ConfigMap", group="g"), hub, kube, recorder)
    monitor.start()
    (key,) = hub.keys()
    monitor.on_watch_event(key, listing(SYNC))
    monitor.unlock()
    monitor.on_watch_event(key, WatchEvent(ADDED, cm("a")))
    sync, event = recorder.take()
    assert sync.synchronization and event.group == "g"
    assert sync.context.type == event.context.type == "Group"
    assert event.context.group_name == "g"


def test_dynamic_namespaces_add_and_drop_sources_without_events(
        hub: WatchHub, kube: FakeKube, recorder: Recorder) -> None:
    selector = LabelSelector(match_labels=(("watch", "yes"),))
    monitor = monitor_for(KubernetesBinding("b", "ConfigMap",
                                            namespace=NamespaceSelector(label_selector=selector)),
                          hub, kube, recorder)
    monitor.start()
    ns_key = WatchKey(NAMESPACES, None, "watch=yes")
    assert hub.keys() == [ns_key]
    monitor.on_watch_event(ns_key, listing(SYNC, ns("n1")))
    assert recorder.take() == []  # n1's objects are not listed yet
    n1 = WatchKey(CONFIGMAPS, "n1")
    monitor.on_watch_event(n1, listing(SYNC, cm("a", "n1")))
    (sync,) = recorder.take()
    monitor.unlock()
    monitor.on_watch_event(ns_key, WatchEvent(ADDED, ns("n2")))
    n2 = WatchKey(CONFIGMAPS, "n2")
    assert set(hub.keys()) == {ns_key, n1, n2}
    monitor.on_watch_event(n2, listing(SYNC, cm("b", "n2")))
    monitor.on_watch_event(ns_key, WatchEvent(MODIFIED, ns("n1")))
    assert recorder.take() == []
    assert [i["object"]["metadata"]["name"] for i in monitor.snapshot()] == ["a", "b"]
    monitor.on_watch_event(ns_key, WatchEvent(DELETED, ns("n1")))
    assert recorder.take() == [] and set(hub.keys()) == {ns_key, n2}
    assert [i["object"]["metadata"]["name"] for i in monitor.snapshot()] == ["b"]
    monitor.on_watch_event(n2, WatchEvent(ADDED, cm("c", "n2")))
    assert [r.context.watch_event for r in recorder.take()] == ["Added"]


def test_unknown_kind_is_reported_retried_and_picked_up(
        hub: WatchHub, kube: FakeKube, recorder: Recorder, later: Later) -> None:
    binding = KubernetesBinding("crs", "Widget", api_version="demo.io/v1")
    monitor = monitor_for(binding, hub, kube, recorder, later)
    monitor.start()
    ((first, _),) = later.calls
    assert hub.keys() == [] and 0.4 <= first <= 0.5   # the retry policy's first delay
    ((name, message),) = recorder.reports
    assert name == "crs" and "kind 'Widget' in demo.io/v1 is not served" in message
    later.run()
    ((second, _),) = later.calls
    assert 0.8 <= second <= 1.0  # backoff grows
    assert len(set(recorder.reports)) == 1, "the same problem is reported the same way on retry"
    widgets = CONFIGMAPS.__class__("demo.io", "v1", "widgets", True, "Widget", "widget")
    kube.served.append(widgets)
    later.run()
    assert hub.keys() == [WatchKey(widgets)] and recorder.reports[-1] == ("crs", None)
    monitor.on_watch_event(WatchKey(widgets), listing(SYNC))
    assert [r.synchronization for r in recorder.take()] == [True]


def test_stop_cancels_retry_and_silences_the_monitor(
        hub: WatchHub, kube: FakeKube, recorder: Recorder, later: Later) -> None:
    missing = monitor_for(KubernetesBinding("m", "Widget"), hub, kube, recorder, later)
    missing.start()
    missing.stop()
    assert later.cancelled == 1
    monitor = monitor_for(KubernetesBinding("b", "ConfigMap"), hub, kube, recorder)
    monitor.start()
    monitor.stop()
    monitor.on_watch_event(WatchKey(CONFIGMAPS), listing(SYNC, cm("a")))
    assert recorder.take() == [] and hub.keys() == []


def test_watch_errors_are_reported_and_cleared_by_the_next_event(
        hub: WatchHub, kube: FakeKube, recorder: Recorder) -> None:
    monitor = monitor_for(KubernetesBinding("b", "ConfigMap"), hub, kube, recorder)
    monitor.start()
    (key,) = hub.keys()
    monitor.on_watch_error(key, "watch configmaps: 403 Forbidden")
    monitor.on_watch_event(key, listing(SYNC))
    assert recorder.reports == [("b", "watch configmaps: 403 Forbidden"), ("b", None)]
