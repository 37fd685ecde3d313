"""One source's cache: silent first list, change suppression, Deleted always, relist diffs."""

from __future__ import annotations

from binding_fakes import cm, listing

from addon_operator.bindings.events import ObjectCache, sorted_items
from addon_operator.bindings.jqfilter import ObjectFilter
from addon_operator.hooks import KubernetesBinding
from addon_operator.kube import ADDED, DELETED, MODIFIED, RELIST, SYNC, WatchEvent


def cache_for(binding: KubernetesBinding, errors: list[str] | None = None) -> ObjectCache:
    sink = errors if errors is not None else []
    return ObjectCache(binding, ObjectFilter(binding.jq_filter), api_version="v1",
                       kind="ConfigMap", on_error=sink.append)


def events(changes: list) -> list[tuple[str, object]]:
    return [(c.watch_event, c.item.get("filterResult", c.item.get("object"))) for c in changes]


def test_first_list_is_silent_and_fills_kind() -> None:
    cache = cache_for(KubernetesBinding("b", "ConfigMap"))
    assert cache.apply(WatchEvent(ADDED, cm("early"))) == []  # before its own list: ignored
    assert cache.apply(listing(SYNC, cm("a"))) == []
    (entry,) = cache.entries.values()
    assert entry.id == "default/ConfigMap/a"
    assert entry.item == {"object": {**cm("a"), "apiVersion": "v1", "kind": "ConfigMap"}}


def test_same_filter_result_is_suppressed_and_deleted_always_fires() -> None:
    cache = cache_for(KubernetesBinding("b", "ConfigMap", jq_filter=".data.x",
                                        keep_full_objects_in_memory=False))
    cache.apply(listing(SYNC))
    assert events(cache.apply(WatchEvent(ADDED, cm("a", rv=2, x="1")))) == [("Added", "1")]
    assert cache.apply(WatchEvent(MODIFIED, cm("a", rv=3, x="1", y="other"))) == []
    assert cache.apply(WatchEvent(ADDED, cm("a", rv=4, x="1"))) == []  # replayed Added
    assert events(cache.apply(WatchEvent(MODIFIED, cm("a", rv=5, x="2")))) == \
        [("Modified", "2")]
    assert events(cache.apply(WatchEvent(DELETED, cm("a", rv=6, x="2")))) == [("Deleted", "2")]
    assert cache.entries == {}
    assert events(cache.apply(WatchEvent(DELETED, cm("never-seen", x="3")))) == \
        [("Deleted", "3")]


def test_item_keys_follow_keep_full_objects_and_jq_filter() -> None:
    full = cache_for(KubernetesBinding("b", "ConfigMap"))
    full.apply(listing(SYNC))
    (change,) = full.apply(WatchEvent(ADDED, cm("a")))
    assert set(change.item) == {"object"}
    slim = cache_for(KubernetesBinding("b", "ConfigMap", keep_full_objects_in_memory=False))
    slim.apply(listing(SYNC))
    (change,) = slim.apply(WatchEvent(ADDED, cm("a")))
    assert change.item == {}
    both = cache_for(KubernetesBinding("b", "ConfigMap", jq_filter=".metadata.name"))
    both.apply(listing(SYNC))
    (change,) = both.apply(WatchEvent(ADDED, cm("a")))
    assert set(change.item) == {"object", "filterResult"} and change.item["filterResult"] == "a"


def test_relist_reports_only_differences() -> None:
    cache = cache_for(KubernetesBinding("b", "ConfigMap", jq_filter=".data"))
    cache.apply(listing(SYNC, cm("same", x="1"), cm("changed", x="1"), cm("gone", x="1")))
    changes = cache.apply(listing(RELIST, cm("same", rv=9, x="1"), cm("changed", x="2"),
                                  cm("new", x="1")))
    assert sorted((c.watch_event, c.item["object"]["metadata"]["name"]) for c in changes) == [
        ("Added", "new"), ("Deleted", "gone"), ("Modified", "changed")]
    assert sorted(cache.entries) == ["default/ConfigMap/changed", "default/ConfigMap/new",
                                     "default/ConfigMap/same"]


def test_filter_failure_leaves_object_out_and_is_reported() -> None:
    errors: list[str] = []
    cache = cache_for(KubernetesBinding("b", "ConfigMap", jq_filter=".data.x + 1"), errors)
    cache.apply(listing(SYNC, cm("bad", x="text")))
    assert cache.entries == {} and "failed on ConfigMap default/bad" in errors[0]


def test_sort_order_by_namespace_and_name_or_by_id() -> None:
    full = cache_for(KubernetesBinding("b", "ConfigMap"))
    full.apply(listing(SYNC, cm("b", "a"), cm("a", "a-b"), cm("a", "a")))
    names = [(i["object"]["metadata"]["namespace"], i["object"]["metadata"]["name"])
             for i in sorted_items(full.entries.values(), keep_full_objects=True)]
    assert names == [("a", "a"), ("a", "b"), ("a-b", "a")]
    slim = cache_for(KubernetesBinding("b", "ConfigMap", jq_filter=".metadata",
                                       keep_full_objects_in_memory=False))
    slim.apply(listing(SYNC, cm("b", "a"), cm("a", "a-b"), cm("a", "a")))
    ids = [(i["filterResult"]["namespace"], i["filterResult"]["name"])
           for i in sorted_items(slim.entries.values(), keep_full_objects=False)]
    assert ids == [("a-b", "a"), ("a", "a"), ("a", "b")]  # "a-b/..." < "a/..." as strings
