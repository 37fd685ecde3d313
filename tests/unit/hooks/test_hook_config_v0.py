"""v0 (legacy, no configVersion) `--config` documents normalised into the shared dataclasses."""

from __future__ import annotations

from typing import Any

import pytest

from addon_operator.hooks import HookConfigError, LabelSelector, NamespaceSelector, parse_hook_config

HOOK = "global-hooks/hooks/legacy.sh"


def parse(doc: dict[str, Any], kind: str = "global"):
    return parse_hook_config(doc, hook=HOOK, kind=kind)


def problems(doc: dict[str, Any], kind: str = "global") -> list[tuple[str, str]]:
    with pytest.raises(HookConfigError) as err:
        parse(doc, kind)
    return list(err.value.problems)


def test_on_startup_and_lifecycle() -> None:
    config = parse({"onStartup": 5, "beforeAll": 1, "afterAll": 2})
    assert config.version == "v0"
    assert (config.on_startup, config.lifecycle) == (5.0, {"beforeAll": 1.0, "afterAll": 2.0})


def test_module_lifecycle_keys_in_v0() -> None:
    config = parse({"beforeHelm": 1, "afterDeleteHelm": 2}, kind="module")
    assert config.lifecycle == {"beforeHelm": 1.0, "afterDeleteHelm": 2.0}
    assert problems({"beforeHelm": 1}) == [(
        "beforeHelm",
        "allowed only in module hooks, not in a global hook (a global hook may use beforeAll, afterAll)",
    )]


def test_schedule_defaults_and_keys() -> None:
    config = parse({"schedule": [
        {"crontab": "*/10 * * * * *"},
        {"name": "named", "crontab": "@daily", "allowFailure": True},
    ]})
    first, second = config.schedules
    assert (first.name, first.allow_failure, first.queue) == ("schedule", False, "main")
    assert (second.name, second.allow_failure) == ("named", True)


def test_kubernetes_defaults() -> None:
    (b,) = parse({"onKubernetesEvent": [{"kind": "Pod"}]}).kubernetes
    assert b.name == "onKubernetesEvent"
    assert b.execute_hook_on_event == ("Added", "Modified", "Deleted")
    assert b.execute_hook_on_synchronization is False  # v0 hooks never run for Synchronization
    assert (b.queue, b.allow_failure, b.jq_filter) == ("main", False, None)
    assert b.namespace == NamespaceSelector() and b.name_selector == ()


def test_kubernetes_all_keys() -> None:
    (b,) = parse({"onKubernetesEvent": [{
        "name": "pods-changed", "event": ["update"], "kind": "Pod",
        "selector": {"matchLabels": {"app": "x"}}, "objectName": "web-0",
        "namespaceSelector": {"matchNames": ["prod"]}, "jqFilter": ".spec", "allowFailure": True,
    }]}).kubernetes
    assert (b.name, b.kind, b.execute_hook_on_event) == ("pods-changed", "Pod", ("Modified",))
    assert b.label_selector == LabelSelector(match_labels=(("app", "x"),))
    assert b.name_selector == ("web-0",)
    assert b.namespace == NamespaceSelector(match_names=("prod",))
    assert (b.jq_filter, b.allow_failure) == (".spec", True)


def test_namespace_selector_any_means_all_namespaces() -> None:
    doc = {"onKubernetesEvent": [
        {"kind": "Pod", "namespaceSelector": {"any": True, "matchNames": ["ignored"]}}
    ]}
    assert parse(doc).kubernetes[0].namespace == NamespaceSelector()


def test_unknown_keys_inside_items_are_ignored_as_upstream() -> None:
    config = parse({"schedule": [{"crontab": "@hourly", "disableDebug": True}]})
    assert config.schedules[0].name == "schedule"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({}, [("", "the config is empty: it declares no binding")]),
        ({"onStartup": 1, "kubernetes": []}, [(
            "kubernetes",
            "unknown key (allowed: onStartup, schedule, onKubernetesEvent, beforeAll, afterAll)",
        )]),
        ({"onKubernetesEvent": [{"kind": "Pod", "event": ["add", "changed"]}]},
         [("onKubernetesEvent[0].event[1]", "unallowed value 'changed' (allowed: add, update, delete)")]),
        ({"onKubernetesEvent": [{"event": ["add"]}]}, [("onKubernetesEvent[0].kind", "required key is missing")]),
        ({"schedule": [{"name": "x"}]}, [("schedule[0].crontab", "required key is missing")]),
        ({"onStartup": "1"}, [("onStartup", "must be of type integer, got string '1'")]),
    ],
)
def test_rejections(doc: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems(doc) == expected


def test_semantic_rejections() -> None:
    found = problems({
        "schedule": [{"crontab": "* * *"}],
        "onKubernetesEvent": [{"kind": "Pod", "jqFilter": ".[["}],
    })
    assert [path for path, _ in found] == ["schedule[0].crontab", "onKubernetesEvent[0].jqFilter"]
    assert "expected 5 or 6 fields, found 3" in found[0][1]
