"""The engine as the runtime sees it: requests, contexts rendered exactly as upstream's,
snapshots, group compaction, stale requests, schedules, synchronization state."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from binding_fakes import CONFIGMAPS, HOOK, FakeKube, Later, Recorder, cm, listing

from addon_operator.bindings import HookBindings, RunRequest, WatchKey, absorbable
from addon_operator.hooks import dumps_contexts, parse_hook_config, render_contexts
from addon_operator.kube import ADDED, SYNC, WatchEvent

CONFIG = {
    "configVersion": "v1",
    "kubernetes": [
        {"name": "cms", "kind": "ConfigMap", "jqFilter": ".data",
         "keepFullObjectsInMemory": False, "includeSnapshotsFrom": ["cms", "full"]},
        {"name": "full", "kind": "ConfigMap", "labelSelector": {"matchLabels": {"a": "b"}},
         "executeHookOnEvent": []},
        {"name": "g1", "kind": "ConfigMap", "group": "pair", "queue": "side",
         "waitForSynchronization": False},
    ],
    "schedule": [{"name": "tick", "crontab": "*/5 * * * * *", "group": "pair"},
                 {"name": "plain", "crontab": "*/5 * * * * *"}],
}


def engine_for(kube: FakeKube, recorder: Recorder, now: list[datetime]) -> HookBindings:
    return HookBindings(kube, emit=recorder.emit, report=recorder.report, now=lambda: now[0],
                        monotonic=lambda: 0.0, later=Later(), spawn=lambda target, name: None)


def started(kube: FakeKube, recorder: Recorder) -> tuple[HookBindings, object]:
    config = parse_hook_config(CONFIG, hook=HOOK.name, kind="module")
    engine = engine_for(kube, recorder, [datetime(2024, 1, 1, tzinfo=timezone.utc)])
    engine.enable_kubernetes(HOOK, config)
    return engine, config


def feed(engine: HookBindings, key: WatchKey, event: WatchEvent) -> None:
    for consumer in list(engine.hub._streams[key]._consumers):
        consumer.on_watch_event(key, event)


def rendered(engine: HookBindings, requests: list[RunRequest], version: str = "v1") -> str:
    return dumps_contexts(render_contexts(engine.contexts(HOOK, requests), version))


def test_synchronization_and_event_contexts_are_upstream_shaped(
        kube: FakeKube, recorder: Recorder) -> None:
    engine, _ = started(kube, recorder)
    all_cms, labelled = WatchKey(CONFIGMAPS), WatchKey(CONFIGMAPS, None, "a=b")
    assert set(engine.hub.keys()) == {all_cms, labelled}  # g1 shares cms' stream
    feed(engine, all_cms, listing(SYNC, cm("y", x="1"), cm("x", x="2")))
    assert not engine.synchronized(HOOK)
    feed(engine, labelled, listing(SYNC))
    syncs = recorder.take()
    assert [(r.binding, r.queue, r.wait) for r in syncs] == [
        ("cms", "main", True), ("g1", "side", False), ("full", "main", True)]
    cms_sync = syncs[0]
    assert rendered(engine, [cms_sync]) == (
        '[{"binding":"cms","objects":[{"filterResult":{"x":"2"}},{"filterResult":{"x":"1"}}],'
        '"snapshots":{"cms":[{"filterResult":{"x":"2"}},{"filterResult":{"x":"1"}}],'
        '"full":[]},"type":"Synchronization"}]\n')
    assert json.loads(rendered(engine, [syncs[2]])) == [
        {"binding": "full", "type": "Synchronization", "objects": []}]
    engine.done([cms_sync, syncs[2]])
    assert engine.synchronized(HOOK)  # g1 is not waited for
    feed(engine, all_cms, WatchEvent(ADDED, cm("z", x="3")))
    (event,) = recorder.take()  # g1's Event is held until g1's Synchronization is done
    assert json.loads(rendered(engine, [event])) == [{
        "binding": "cms", "type": "Event", "watchEvent": "Added", "filterResult": {"x": "3"},
        "snapshots": {"cms": [{"filterResult": {"x": "2"}}, {"filterResult": {"x": "1"}},
                              {"filterResult": {"x": "3"}}], "full": []}}]
    engine.done([syncs[1]])
    (group,) = recorder.take()
    assert (group.binding, group.queue, group.context.type) == ("g1", "side", "Group")
    assert json.loads(rendered(engine, [event], "v0")) == [{
        "binding": "cms", "resourceEvent": "add", "resourceNamespace": "",
        "resourceKind": "", "resourceName": ""}]


def test_group_contexts_compact_and_carry_only_snapshots(
        kube: FakeKube, recorder: Recorder) -> None:
    engine, config = started(kube, recorder)
    engine.enable_schedules(HOOK, config)
    feed(engine, WatchKey(CONFIGMAPS), listing(SYNC, cm("a", x="1")))
    feed(engine, WatchKey(CONFIGMAPS, None, "a=b"), listing(SYNC))
    g1_sync = [r for r in recorder.take() if r.binding == "g1"][0]
    engine.done([g1_sync])
    feed(engine, WatchKey(CONFIGMAPS), WatchEvent(ADDED, cm("b", x="2")))
    events = recorder.take()
    g1_event = [r for r in events if r.binding == "g1"][0]
    engine.schedules.start(thread=False)
    engine.schedules.tick(datetime(2024, 1, 1, 0, 0, 5, tzinfo=timezone.utc))
    tick, plain = recorder.take()
    assert absorbable(g1_event, [tick, plain]) == 2
    contexts = json.loads(rendered(engine, [g1_event, tick, plain]))
    g1_objects = [{"object": {**cm(n, x=v), "apiVersion": "v1", "kind": "ConfigMap"}}
                  for n, v in (("a", "1"), ("b", "2"))]
    assert contexts == [
        {"binding": "tick", "type": "Group", "groupName": "pair",
         "snapshots": {"g1": g1_objects}},
        {"binding": "plain", "type": "Schedule"}]


def test_disable_makes_queued_requests_stale_and_stops_watches(
        kube: FakeKube, recorder: Recorder) -> None:
    engine, config = started(kube, recorder)
    feed(engine, WatchKey(CONFIGMAPS), listing(SYNC))
    stale = recorder.take()[0]
    engine.disable(HOOK)
    assert engine.hub.keys() == [] and not engine.is_current(stale)
    engine.enable_kubernetes(HOOK, config)
    feed(engine, WatchKey(CONFIGMAPS), listing(SYNC))
    fresh = recorder.take()[0]
    assert engine.is_current(fresh) and not engine.is_current(stale)


def test_lifecycle_snapshots_hold_every_kubernetes_binding(
        kube: FakeKube, recorder: Recorder) -> None:
    engine, config = started(kube, recorder)
    feed(engine, WatchKey(CONFIGMAPS), listing(SYNC, cm("a", x="1")))
    snapshots = engine.snapshots(HOOK, config)
    assert snapshots["cms"] == [{"filterResult": {"x": "1"}}] and snapshots["full"] == []
    assert len(snapshots["g1"]) == 1
    assert engine.snapshots(HOOK.__class__("other"), config) == \
        {"cms": [], "full": [], "g1": []}


def test_schedules_fire_only_after_start_and_while_enabled(
        kube: FakeKube, recorder: Recorder) -> None:
    engine, config = started(kube, recorder)
    engine.enable_schedules(HOOK, config)
    moment = datetime(2024, 1, 1, 0, 0, 5, tzinfo=timezone.utc)
    assert engine.schedules.tick(moment) == []
    engine.schedules.start(thread=False)
    assert [b.name for _, b in engine.schedules.tick(moment)] == ["tick", "plain"]
    assert [r.context.type for r in recorder.take()] == ["Group", "Schedule"]
    engine.disable(HOOK)
    assert engine.schedules.tick(datetime(2024, 1, 1, 0, 0, 10, tzinfo=timezone.utc)) == []


def test_rate_limit_per_hook(kube: FakeKube, recorder: Recorder) -> None:
    config = parse_hook_config({**CONFIG, "settings": {"executionMinInterval": "2s",
                                                       "executionBurst": 1}},
                               hook=HOOK.name, kind="module")
    engine = engine_for(kube, recorder, [datetime(2024, 1, 1, tzinfo=timezone.utc)])
    engine.enable_kubernetes(HOOK, config)
    assert engine.reserve(HOOK) == 0.0
    assert engine.reserve(HOOK) == 2.0
    assert engine.reserve(HOOK.__class__("unlimited")) == 0.0


def test_v0_hook_gets_v0_event_contexts_and_no_synchronization_run(
        kube: FakeKube, recorder: Recorder) -> None:
    config = parse_hook_config({"onKubernetesEvent": [{"kind": "ConfigMap", "event": ["add"]}]},
                               hook=HOOK.name, kind="module")
    engine = engine_for(kube, recorder, [datetime(2024, 1, 1, tzinfo=timezone.utc)])
    engine.enable_kubernetes(HOOK, config)
    feed(engine, WatchKey(CONFIGMAPS), listing(SYNC))
    (sync,) = recorder.take()
    assert not sync.run_hook and absorbable(sync, [sync], version="v1") == 0
    engine.done([sync])
    feed(engine, WatchKey(CONFIGMAPS), WatchEvent(ADDED, cm("a", "ns1")))
    (event,) = recorder.take()
    assert rendered(engine, [event], "v0") == (
        '[{"binding":"onKubernetesEvent","resourceEvent":"add","resourceKind":"ConfigMap",'
        '"resourceName":"a","resourceNamespace":"ns1"}]\n')
