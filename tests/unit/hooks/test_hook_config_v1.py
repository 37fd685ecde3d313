"""v1 `--config` documents: every key's default, every rejected form, lifecycle keys per kind."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from addon_operator.hooks import (
    FieldRequirement,
    HookConfigError,
    LabelRequirement,
    LabelSelector,
    NamespaceSelector,
    field_selector_query,
    parse_hook_config,
)

HOOK = "modules/001-a/hooks/x.sh"


def parse(doc: dict[str, Any] | str, kind: str = "module"):
    return parse_hook_config(doc, hook=HOOK, kind=kind)


def problems(doc: dict[str, Any] | str, kind: str = "module") -> list[tuple[str, str]]:
    with pytest.raises(HookConfigError) as err:
        parse(doc, kind)
    assert err.value.hook == HOOK
    return list(err.value.problems)


def v1(**keys: Any) -> dict[str, Any]:
    return {"configVersion": "v1", **keys}


def test_schedule_defaults() -> None:
    (binding,) = parse(v1(schedule=[{"crontab": "*/5 * * * *"}])).schedules
    assert binding.name == "schedule"
    assert binding.crontab.expr == "*/5 * * * *"
    assert (binding.allow_failure, binding.queue, binding.group) == (False, "main", None)
    assert binding.include_snapshots_from == ()


def test_schedule_all_keys() -> None:
    doc = v1(
        schedule=[{
            "name": "nightly", "crontab": "0 3 * * *", "allowFailure": True,
            "includeSnapshotsFrom": ["pods"], "queue": "slow", "group": "g",
        }],
        kubernetes=[{"name": "pods", "kind": "Pod"}],
    )
    (binding,) = parse(doc).schedules
    assert (binding.name, binding.allow_failure, binding.queue, binding.group) == (
        "nightly", True, "slow", "g",
    )
    assert binding.include_snapshots_from == ("pods",)


def test_kubernetes_defaults() -> None:
    (binding,) = parse(v1(kubernetes=[{"kind": "Pod"}])).kubernetes
    assert binding.name == "kubernetes"
    assert binding.api_version == ""
    assert binding.execute_hook_on_event == ("Added", "Modified", "Deleted")
    assert binding.execute_hook_on_synchronization is True
    assert binding.wait_for_synchronization is True
    assert binding.keep_full_objects_in_memory is True
    assert binding.name_selector == () and binding.label_selector is None
    assert binding.field_selector == () and binding.namespace == NamespaceSelector()
    assert binding.jq_filter is None and binding.include_snapshots_from == ()
    assert (binding.allow_failure, binding.queue, binding.group) == (False, "main", None)


def test_kubernetes_all_keys() -> None:
    doc = v1(kubernetes=[{
        "name": "cms", "apiVersion": "v1", "kind": "ConfigMap",
        "executeHookOnEvent": ["Added", "Deleted"],
        "executeHookOnSynchronization": False, "waitForSynchronization": False,
        "keepFullObjectsInMemory": False, "resynchronizationPeriod": "10m",
        "nameSelector": {"matchNames": ["a", "b"]},
        "labelSelector": {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["fe", "be"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        },
        "fieldSelector": {"matchExpressions": [
            {"field": "metadata.namespace", "operator": "Equals", "value": "x"},
            {"field": "status.phase", "operator": "NotEquals", "value": "Done"},
        ]},
        "namespace": {"nameSelector": {"matchNames": ["default", "kube-system"]}},
        "jqFilter": ".data", "includeSnapshotsFrom": ["cms"], "allowFailure": True,
        "queue": "cm-queue", "group": "g",
    }])
    (b,) = parse(doc).kubernetes
    assert (b.name, b.api_version, b.kind) == ("cms", "v1", "ConfigMap")
    assert b.execute_hook_on_event == ("Added", "Deleted")
    assert (b.execute_hook_on_synchronization, b.wait_for_synchronization) == (False, False)
    assert b.keep_full_objects_in_memory is False
    assert b.name_selector == ("a", "b")
    assert b.label_selector == LabelSelector(
        match_labels=(("app", "web"),),
        match_expressions=(
            LabelRequirement("tier", "In", ("fe", "be")),
            LabelRequirement("legacy", "DoesNotExist"),
        ),
    )
    assert b.label_selector.to_query() == "app=web,tier in (fe,be),!legacy"
    assert b.field_selector == (
        FieldRequirement("metadata.namespace", "=", "x"),
        FieldRequirement("status.phase", "!=", "Done"),
    )
    assert field_selector_query(b.field_selector) == "metadata.namespace=x,status.phase!=Done"
    assert b.namespace == NamespaceSelector(match_names=("default", "kube-system"))
    assert (b.jq_filter, b.include_snapshots_from) == (".data", ("cms",))
    assert (b.allow_failure, b.queue, b.group) == (True, "cm-queue", "g")
    assert b.waits_for_synchronization is False


def test_wait_for_synchronization_false_is_ignored_in_main() -> None:
    (b,) = parse(v1(kubernetes=[{"kind": "Pod", "waitForSynchronization": False}])).kubernetes
    assert b.wait_for_synchronization is False
    assert b.waits_for_synchronization is True


def test_label_selector_query_for_notin_and_exists() -> None:
    doc = v1(kubernetes=[{"kind": "Pod", "labelSelector": {"matchExpressions": [
        {"key": "a", "operator": "NotIn", "values": ["x"]}, {"key": "b", "operator": "Exists"},
    ]}}])
    assert parse(doc).kubernetes[0].label_selector.to_query() == "a notin (x),b"


def test_watch_event_is_the_old_name_and_execute_hook_on_event_wins() -> None:
    only_old = parse(v1(kubernetes=[{"kind": "Pod", "watchEvent": ["Modified"]}]))
    assert only_old.kubernetes[0].execute_hook_on_event == ("Modified",)
    both = parse(v1(kubernetes=[
        {"kind": "Pod", "watchEvent": ["Modified"], "executeHookOnEvent": ["Deleted"]}
    ]))
    assert both.kubernetes[0].execute_hook_on_event == ("Deleted",)


def test_empty_execute_hook_on_event_means_never_on_events() -> None:
    doc = v1(kubernetes=[{"kind": "Pod", "executeHookOnEvent": []}])
    assert parse(doc).kubernetes[0].execute_hook_on_event == ()


def test_namespace_label_selector_drops_name_selector_as_upstream() -> None:
    doc = v1(kubernetes=[{"kind": "Pod", "namespace": {
        "nameSelector": {"matchNames": ["a"]}, "labelSelector": {"matchLabels": {"team": "x"}},
    }}])
    ns = parse(doc).kubernetes[0].namespace
    assert ns.match_names == ()
    assert ns.label_selector == LabelSelector(match_labels=(("team", "x"),))


def test_on_startup_settings_and_webhooks() -> None:
    config = parse(v1(
        onStartup=10,
        settings={"executionMinInterval": "1m30s", "executionBurst": 3},
        kubernetesValidating=[{
            "name": "validate.example.com",
            "rules": [{"apiVersions": ["v1"], "apiGroups": [""], "resources": ["pods"],
                       "operations": ["CREATE"], "scope": "Namespaced"}],
            "failurePolicy": "Ignore", "sideEffects": "None", "timeoutSeconds": 5,
            "matchConditions": [{"name": "c", "expression": "true"}],
        }],
        kubernetesMutating=[{"name": "mutate.example.com"}],
        kubernetesCustomResourceConversion=[{
            "name": "convert", "crdName": "things.example.com",
            "conversions": [{"fromVersion": "v1", "toVersion": "v2"}],
        }],
    ))
    assert config.on_startup == 10.0
    assert config.settings.execution_min_interval == timedelta(seconds=90)
    assert config.settings.execution_burst == 3
    assert config.webhooks == ("validate.example.com", "mutate.example.com", "convert")
    assert config.binding_names() == [
        "onStartup", "validate.example.com", "mutate.example.com", "convert",
    ]


def test_settings_absent_means_unlimited() -> None:
    settings = parse(v1(onStartup=1)).settings
    assert (settings.execution_min_interval, settings.execution_burst) == (None, None)


@pytest.mark.parametrize(
    ("kind", "keys"),
    [
        ("global", ["beforeAll", "afterAll"]),
        ("module", ["beforeHelm", "afterHelm", "beforeDeleteHelm", "afterDeleteHelm"]),
    ],
)
def test_lifecycle_keys_allowed_per_kind(kind: str, keys: list[str]) -> None:
    config = parse(v1(**{key: i for i, key in enumerate(keys, start=1)}), kind)
    assert config.lifecycle == {key: float(i) for i, key in enumerate(keys, start=1)}
    assert config.binding_names() == keys


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("module", "beforeAll"),
        ("module", "afterAll"),
        ("global", "beforeHelm"),
        ("global", "afterHelm"),
        ("global", "beforeDeleteHelm"),
        ("global", "afterDeleteHelm"),
    ],
)
def test_lifecycle_keys_rejected_for_the_other_kind(kind: str, key: str) -> None:
    ((path, message),) = problems(v1(onStartup=1, **{key: 1}), kind)
    assert path == key
    other = "global" if kind == "module" else "module"
    assert message.startswith(f"allowed only in {other} hooks, not in a {kind} hook")


def test_integral_json_numbers_are_integers() -> None:
    config = parse(
        '{"configVersion": "v1", "onStartup": 10.0, "beforeHelm": 2,'
        ' "settings": {"executionMinInterval": "1s", "executionBurst": 4.0}}'
    )
    assert (config.on_startup, config.lifecycle) == (10.0, {"beforeHelm": 2.0})
    assert config.settings.execution_burst == 4
    assert isinstance(config.settings.execution_burst, int)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1.5, "number 1.5"), (True, "boolean True"), ("10", "string '10'")],
)
def test_order_rejects_non_integers(value: Any, shown: str) -> None:
    assert problems(v1(afterHelm=value)) == [("afterHelm", f"must be of type integer, got {shown}")]


def test_null_is_rejected() -> None:
    assert problems(v1(onStartup=None)) == [("onStartup", "must not be null")]


def test_error_names_hook_path_and_unallowed_value() -> None:
    with pytest.raises(HookConfigError) as err:
        parse(v1(kubernetes=[{"kind": "Pod", "executeHookOnEvent": ["Added", "Changed"]}]))
    assert str(err.value) == (
        "hook modules/001-a/hooks/x.sh: kubernetes[0].executeHookOnEvent[1]: "
        "unallowed value 'Changed' (allowed: Added, Modified, Deleted)"
    )


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (v1(), [("", "a v1 config needs at least one binding besides configVersion")]),
        (v1(onStartup=1, unknown=1), [("unknown", "unknown key (allowed: configVersion, onStartup, "
                                       "schedule, kubernetes, kubernetesValidating, kubernetesMutating, "
                                       "kubernetesCustomResourceConversion, settings, beforeHelm, "
                                       "afterHelm, beforeDeleteHelm, afterDeleteHelm)")]),
        (v1(schedule=[]), [("schedule", "must have at least 1 item")]),
        (v1(schedule=[{"name": "x"}]), [("schedule[0].crontab", "required key is missing")]),
        (v1(schedule=[{"crontab": "* * * * *", "executeHookOnStartup": True}]),
         [("schedule[0].executeHookOnStartup",
           "unknown key (allowed: name, crontab, allowFailure, includeSnapshotsFrom, queue, group)")]),
        (v1(schedule=[{"crontab": 5}]), [("schedule[0].crontab", "must be of type string, got integer 5")]),
        (v1(schedule=[{"crontab": "* * * * *", "allowFailure": "yes"}]),
         [("schedule[0].allowFailure", "must be of type boolean, got string 'yes'")]),
        (v1(schedule=[{"crontab": "* * * * *", "includeSnapshotsFrom": []}]),
         [("schedule[0].includeSnapshotsFrom", "must have at least 1 item")]),
        (v1(kubernetes=[]), [("kubernetes", "must have at least 1 item")]),
        (v1(kubernetes=[{"name": "x"}]), [("kubernetes[0].kind", "required key is missing")]),
        (v1(kubernetes=[{"kind": "Pod", "mode": "v0"}]), None),
        (v1(kubernetes=[{"kind": "Pod", "executeHookOnSynchronization": "true"}]),
         [("kubernetes[0].executeHookOnSynchronization", "must be of type boolean, got string 'true'")]),
        (v1(kubernetes=[{"kind": "Pod", "nameSelector": {}}]),
         [("kubernetes[0].nameSelector.matchNames", "required key is missing")]),
        (v1(kubernetes=[{"kind": "Pod", "labelSelector": {}}]),
         [("kubernetes[0].labelSelector", "must have at least 1 key")]),
        (v1(kubernetes=[{"kind": "Pod", "labelSelector": {"matchExpressions": [
            {"key": "a", "operator": "Like", "values": ["x"]}]}}]),
         [("kubernetes[0].labelSelector.matchExpressions[0].operator",
           "unallowed value 'Like' (allowed: In, NotIn, Exists, DoesNotExist)")]),
        (v1(kubernetes=[{"kind": "Pod", "labelSelector": {"matchLabels": {"a": 1}}}]),
         [("kubernetes[0].labelSelector.matchLabels.a", "must be of type string, got integer 1")]),
        (v1(kubernetes=[{"kind": "Pod", "fieldSelector": {"matchExpressions": [
            {"field": "a", "operator": "=~", "value": "x"}]}}]),
         [("kubernetes[0].fieldSelector.matchExpressions[0].operator",
           "unallowed value '=~' (allowed: =, ==, Equals, !=, NotEquals)")]),
        (v1(kubernetes=[{"kind": "Pod", "fieldSelector": {"matchExpressions": [
            {"field": "a", "operator": "="}]}}]),
         [("kubernetes[0].fieldSelector.matchExpressions[0].value", "required key is missing")]),
        (v1(kubernetes=[{"kind": "Pod", "namespace": {"nameSelector": ["default"]}}]),
         [("kubernetes[0].namespace.nameSelector", "must be of type dict, got list ['default']")]),
        (v1(settings={"executionMinInterval": "1s"}),
         [("settings.executionBurst", "required key is missing")]),
        (v1(settings={"executionMinInterval": "1s", "executionBurst": 1, "x": 1}),
         [("settings.x", "unknown key (allowed: executionMinInterval, executionBurst)")]),
        (v1(kubernetesValidating=[{"rules": []}]),
         [("kubernetesValidating[0].name", "required key is missing")]),
        (v1(kubernetesMutating=[{"name": "m.e.com", "failurePolicy": "Retry"}]),
         [("kubernetesMutating[0].failurePolicy", "unallowed value 'Retry' (allowed: Ignore, Fail)")]),
        (v1(kubernetesValidating=[{"name": "v.e.com", "namespace": {"nameSelector": {}}}]),
         [("kubernetesValidating[0].namespace.nameSelector", "unknown key (allowed: labelSelector)")]),
        (v1(kubernetesCustomResourceConversion=[{"name": "c", "crdName": "a.b", "conversions": []}]),
         [("kubernetesCustomResourceConversion[0].conversions", "must have at least 1 item")]),
    ],
)
def test_schema_rejections(doc: dict[str, Any], expected: list[tuple[str, str]] | None) -> None:
    found = problems(doc)
    if expected is None:
        assert [path for path, _ in found] == ["kubernetes[0].mode"]
    else:
        assert found == expected


@pytest.mark.parametrize(
    ("doc", "path", "fragment"),
    [
        (v1(schedule=[{"crontab": "61 * * * *"}]), "schedule[0].crontab",
         "invalid crontab '61 * * * *': minute field '61': 61 is above the maximum 59"),
        (v1(kubernetes=[{"kind": "Pod", "apiVersion": "a/b/c"}]), "kubernetes[0].apiVersion",
         "invalid apiVersion 'a/b/c'"),
        (v1(kubernetes=[{"kind": "Pod", "jqFilter": ".a | foo("}]), "kubernetes[0].jqFilter",
         "jq filter '.a | foo(' does not compile: syntax error"),
        (v1(kubernetes=[{"kind": "Pod", "jqFilter": "nosuchfn(1)"}]), "kubernetes[0].jqFilter",
         "nosuchfn/1 is not defined"),
        (v1(kubernetes=[{"kind": "Pod", "nameSelector": {"matchNames": ["a"]},
                         "fieldSelector": {"matchExpressions": [
                             {"field": "metadata.name", "operator": "=", "value": "a"}]}}]),
         "kubernetes[0].fieldSelector", "metadata.name cannot be used together with nameSelector"),
        (v1(kubernetes=[{"kind": "Pod", "labelSelector": {"matchExpressions": [
            {"key": "a", "operator": "In"}]}}]),
         "kubernetes[0].labelSelector.matchExpressions[0].values", "operator In needs at least one value"),
        (v1(kubernetes=[{"kind": "Pod", "labelSelector": {"matchExpressions": [
            {"key": "a", "operator": "Exists", "values": ["x"]}]}}]),
         "kubernetes[0].labelSelector.matchExpressions[0].values", "operator Exists takes no values"),
        (v1(settings={"executionMinInterval": "soon", "executionBurst": 1}),
         "settings.executionMinInterval", "invalid duration 'soon'"),
        (v1(schedule=[{"crontab": "@hourly", "includeSnapshotsFrom": ["nope"]}],
            kubernetes=[{"name": "pods", "kind": "Pod"}]),
         "schedule[0].includeSnapshotsFrom[0]",
         "no kubernetes binding named 'nope' (kubernetes bindings: pods)"),
        (v1(kubernetes=[{"kind": "Pod"}, {"kind": "Node", "includeSnapshotsFrom": ["kubernetes"]}]),
         "kubernetes[1].includeSnapshotsFrom[0]",
         "2 kubernetes bindings are named 'kubernetes'; it must be unique"),
        (v1(kubernetesMutating=[{"name": "m.e.com", "includeSnapshotsFrom": ["x"]}]),
         "kubernetesMutating[0].includeSnapshotsFrom[0]",
         "no kubernetes binding named 'x' (kubernetes bindings: none)"),
    ],
)
def test_semantic_rejections(doc: dict[str, Any], path: str, fragment: str) -> None:
    ((found_path, message),) = problems(doc)
    assert found_path == path
    assert fragment in message


def test_all_semantic_problems_reported_together() -> None:
    found = problems(v1(
        schedule=[{"crontab": "bad"}],
        kubernetes=[{"name": "k", "kind": "Pod", "jqFilter": "..("}, {"kind": "Node",
                     "includeSnapshotsFrom": ["k"]}],
    ))
    # The include of 'k' is fine although binding k itself is rejected for its jqFilter.
    assert [path for path, _ in found] == ["schedule[0].crontab", "kubernetes[0].jqFilter"]


def test_self_include_is_allowed() -> None:
    doc = v1(kubernetes=[{"name": "pods", "kind": "Pod", "includeSnapshotsFrom": ["pods", "pods"]}])
    assert parse(doc).kubernetes[0].include_snapshots_from == ("pods",)


def test_group_expands_into_include_snapshots_from() -> None:
    config = parse(v1(
        schedule=[
            {"name": "tick", "crontab": "@every 1m", "group": "main-group"},
            {"name": "lonely", "crontab": "@daily"},
        ],
        kubernetes=[
            {"name": "nodes", "kind": "Node", "group": "main-group", "includeSnapshotsFrom": ["cms"]},
            {"name": "pods", "kind": "Pod", "group": "main-group"},
            {"name": "cms", "kind": "ConfigMap"},
            {"name": "secrets", "kind": "Secret", "group": "other"},
        ],
    ))
    by_name = {b.name: b for b in (*config.schedules, *config.kubernetes)}
    assert by_name["tick"].include_snapshots_from == ("nodes", "pods")
    assert by_name["nodes"].include_snapshots_from == ("cms", "nodes", "pods")
    assert by_name["pods"].include_snapshots_from == ("nodes", "pods")
    assert by_name["cms"].include_snapshots_from == ()
    assert by_name["secrets"].include_snapshots_from == ("secrets",)
    assert by_name["lonely"].include_snapshots_from == ()


def test_group_of_only_schedules_adds_no_snapshots() -> None:
    config = parse(v1(schedule=[{"crontab": "@hourly", "group": "g"}]))
    assert config.schedules[0].include_snapshots_from == ()
    assert config.schedules[0].group == "g"


def test_empty_strings_mean_defaults() -> None:
    config = parse(v1(
        schedule=[{"name": "", "crontab": "@hourly", "queue": "", "group": ""}],
        kubernetes=[{"name": "", "kind": "Pod", "queue": "", "jqFilter": ""}],
    ))
    assert (config.schedules[0].name, config.schedules[0].queue, config.schedules[0].group) == (
        "schedule", "main", None,
    )
    assert (config.kubernetes[0].name, config.kubernetes[0].jq_filter) == ("kubernetes", None)


def test_binding_names_are_unique_and_ordered() -> None:
    config = parse(v1(
        onStartup=1, afterHelm=2,
        schedule=[{"crontab": "@hourly"}, {"crontab": "@daily"}],
        kubernetes=[{"kind": "Pod"}, {"name": "nodes", "kind": "Node"}],
    ))
    assert config.binding_names() == ["onStartup", "afterHelm", "schedule", "kubernetes", "nodes"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("configVersion: v2\nonStartup: 1", "configVersion: value 'v2' is unsupported"),
        ("configVersion: 1\nonStartup: 1", "configVersion: value 1 is unsupported"),
        ("configVersion: v0\nonStartup: 1", "configVersion: 'v0' cannot be written"),
        ("- onStartup: 1", "the config must be a mapping, got list"),
        ("", "--config printed no configuration"),
        ("onStartup: [1", "--config output is not valid YAML or JSON at line 1, column 14"),
    ],
)
def test_document_level_rejections(text: str, message: str) -> None:
    with pytest.raises(HookConfigError) as err:
        parse(text)
    assert str(err.value).startswith(f"hook {HOOK}: {message}")


def test_json_text_is_accepted() -> None:
    config = parse('{"configVersion":"v1","schedule":[{"crontab":"0 */2 * * *","name":"s"}]}')
    assert config.schedules[0].name == "s"
