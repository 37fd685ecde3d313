"""Binding context shapes (v1 and v0) and the file text, as hooks written for upstream read them."""

from __future__ import annotations

import json

import pytest

from addon_operator.hooks.contexts import (
    BindingContext,
    dumps_contexts,
    lifecycle_contexts,
    object_item,
    render_contexts,
)

POD = {"kind": "Pod", "metadata": {"name": "web-1", "namespace": "apps"}, "spec": {}}


def test_on_startup_has_no_type_and_no_snapshots() -> None:
    assert lifecycle_contexts("onStartup", "v1") == [{"binding": "onStartup"}]
    assert lifecycle_contexts("onStartup", "v1", {"pods": []}) == [{"binding": "onStartup"}]


@pytest.mark.parametrize(
    "binding",
    ["beforeAll", "afterAll", "beforeHelm", "afterHelm", "beforeDeleteHelm", "afterDeleteHelm"],
)
def test_other_lifecycle_bindings_always_carry_snapshots_and_no_type(binding: str) -> None:
    assert lifecycle_contexts(binding, "v1") == [{"binding": binding, "snapshots": {}}]


def test_lifecycle_snapshots_hold_every_kubernetes_binding() -> None:
    snapshots = {"pods": [object_item(POD)], "secrets": []}
    assert lifecycle_contexts("afterHelm", "v1", snapshots) == [
        {"binding": "afterHelm", "snapshots": {"pods": [{"object": POD}], "secrets": []}}
    ]


@pytest.mark.parametrize("binding", ["onStartup", "beforeHelm", "afterDeleteHelm"])
def test_v0_lifecycle_context_is_only_the_binding(binding: str) -> None:
    assert lifecycle_contexts(binding, "v0", {"pods": []}) == [{"binding": binding}]


def test_unknown_lifecycle_binding_and_version_are_rejected() -> None:
    with pytest.raises(ValueError, match="'beforeEverything' is not a lifecycle binding"):
        lifecycle_contexts("beforeEverything", "v1")
    with pytest.raises(ValueError, match="unknown hook config version 'v2'"):
        lifecycle_contexts("beforeHelm", "v2")


def test_object_item_keys_follow_the_binding_settings() -> None:
    assert object_item(POD) == {"object": POD}
    assert object_item(POD, keep_object=False, filtered=True, filter_result={"a": 1}) == {
        "filterResult": {"a": 1}
    }
    assert object_item(POD, filtered=True) == {"object": POD, "filterResult": None}


def test_schedule_context_has_snapshots_only_when_included() -> None:
    plain = BindingContext("every-minute", type="Schedule")
    with_snapshots = BindingContext("every-minute", type="Schedule", snapshots={"pods": []})
    assert render_contexts([plain, with_snapshots], "v1") == [
        {"binding": "every-minute", "type": "Schedule"},
        {"binding": "every-minute", "type": "Schedule", "snapshots": {"pods": []}},
    ]


def test_synchronization_context_lists_objects_even_when_empty() -> None:
    empty = BindingContext("pods", type="Synchronization")
    full = BindingContext(
        "pods", type="Synchronization", objects=[object_item(POD, filtered=True, filter_result="x")]
    )
    assert render_contexts([empty, full], "v1") == [
        {"binding": "pods", "type": "Synchronization", "objects": []},
        {
            "binding": "pods",
            "type": "Synchronization",
            "objects": [{"object": POD, "filterResult": "x"}],
        },
    ]


def test_event_context_merges_the_item_keys() -> None:
    context = BindingContext(
        "pods", type="Event", watch_event="Modified", item=object_item(POD),
        snapshots={"secrets": []},
    )
    assert context.to_v1() == {
        "binding": "pods", "type": "Event", "watchEvent": "Modified", "object": POD,
        "snapshots": {"secrets": []},
    }


def test_group_context_has_group_name_and_snapshots_only() -> None:
    context = BindingContext(
        "pods", type="Group", group_name="main", snapshots={"pods": [object_item(POD)]},
        objects=[object_item(POD)], watch_event="Added", item=object_item(POD),
    )
    assert context.to_v1() == {
        "binding": "pods", "type": "Group", "groupName": "main",
        "snapshots": {"pods": [{"object": POD}]},
    }


def test_v0_event_names_the_resource_and_other_v0_contexts_only_the_binding() -> None:
    event = BindingContext(
        "onKubernetesEvent", type="Event", watch_event="Deleted", item=object_item(POD)
    )
    schedule = BindingContext("cron", type="Schedule", snapshots={"pods": []})
    assert render_contexts([event, schedule], "v0") == [
        {
            "binding": "onKubernetesEvent", "resourceEvent": "delete",
            "resourceNamespace": "apps", "resourceKind": "Pod", "resourceName": "web-1",
        },
        {"binding": "cron"},
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"binding": "pods"}, "without a type must be one of"),
        ({"binding": "pods", "type": "Webhook"}, "type 'Webhook' is not one of"),
        ({"binding": "pods", "type": "Event", "watch_event": "Touched"}, "needs watch_event"),
        ({"binding": "pods", "type": "Group"}, "needs a group_name"),
    ],
)
def test_inconsistent_contexts_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BindingContext(**kwargs)


def test_file_text_is_a_compact_sorted_array_ending_with_a_newline() -> None:
    text = dumps_contexts(
        [{"snapshots": {}, "binding": "beforeHelm"}, {"binding": "onStartup", "note": "é"}]
    )
    assert text == '[{"binding":"beforeHelm","snapshots":{}},{"binding":"onStartup","note":"é"}]\n'
    assert json.loads(text)[1]["note"] == "é"
