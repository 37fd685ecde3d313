"""Hook metrics: the `$METRICS_PATH` stream format and the group/expire/observe semantics."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from addon_operator.metrics import HookMetrics, MetricsError, parse_metrics_stream


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def store(registry: CollectorRegistry) -> HookMetrics:
    return HookMetrics(registry)


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_parse_stream_of_objects() -> None:
    text = """
    {"name": "a", "action": "set", "value": 1, "labels": {"x": "1"}}{"name": "b", "add": 2}
    {"name": "h", "action": "observe", "value": 0.5, "buckets": [1, 0.1, 1]}
    {"group": "g", "action": "expire", "unknownKey": true}
    """
    assert parse_metrics_stream(text) == [
        {"action": "set", "name": "a", "value": 1.0, "labels": {"x": "1"}},
        {"action": "add", "name": "b", "value": 2.0, "labels": {}},
        {"action": "observe", "name": "h", "value": 0.5, "buckets": [0.1, 1.0], "labels": {}},
        {"action": "expire", "group": "g", "labels": {}},
    ]
    assert parse_metrics_stream("") == [] and parse_metrics_stream(" \n") == []


@pytest.mark.parametrize("text,message", [
    ('{"name": "a", "action": "set", "value": 1}\n{"name": ', "object #2: invalid JSON at line 2"),
    ('[{"name": "a"}]', "object #1 (line 1): expected a JSON object, got list"),
    ('{"name": "a", "value": 1}', "'action' must be one of set, add, observe, expire, got None"),
    ('{"name": "a", "set": 1, "add": 2}', "'set' and 'add' cannot both be given"),
    ('{"name": "a", "action": "set"}', "metric 'a': 'value' must be a number, got None"),
    ('{"name": "a", "action": "set", "value": true}', "'value' must be a number"),
    ('{"name": "a", "action": "set", "value": "1"}', "'value' must be a number"),
    ('{"action": "set", "value": 1}', "'name' must be a Prometheus metric name, got None"),
    ('{"name": "a-b", "action": "set", "value": 1}', "got 'a-b'"),
    ('{"name": "h", "action": "observe", "value": 1}', "'buckets' must be a non-empty list"),
    ('{"name": "h", "action": "observe", "value": 1, "buckets": [1], "group": "g"}',
     "action 'observe' is not allowed in a group"),
    ('{"action": "expire"}', "action 'expire' needs a 'group'"),
    ('{"name": "a", "action": "set", "value": 1, "labels": {"x": 1}}', "label 'x' must be a string"),
    ('{"name": "a", "action": "set", "value": 1, "labels": {"__x": "1"}}', "label name '__x'"),
    ('{"name": "a", "action": "set", "value": 1, "labels": ["x"]}', "'labels' must be an object"),
    ('{"name": "a", "action": "set", "value": 1, "group": ""}', "'group' must be a non-empty string"),
])
def test_parse_errors_are_clear(text: str, message: str) -> None:
    with pytest.raises(MetricsError, match="^metrics file: ") as err:
        parse_metrics_stream(text)
    assert message in str(err.value)


def test_labels_hook_and_module_are_added_and_win(store: HookMetrics,
                                                  registry: CollectorRegistry) -> None:
    store.apply(parse_metrics_stream(
        '{"name": "g", "set": 5, "labels": {"hook": "spoofed", "k": "v"}}'), "hooks/a", "echo")
    assert value(registry, "g", hook="hooks/a", module="echo", k="v") == 5.0
    store.apply(parse_metrics_stream('{"name": "gg", "set": 1}'), "global-a")
    assert value(registry, "gg", hook="global-a") == 1.0


def test_ungrouped_series_are_replaced_by_the_next_run_that_writes(
        store: HookMetrics, registry: CollectorRegistry) -> None:
    run1 = parse_metrics_stream('{"name": "c_total", "add": 2} {"name": "c_total", "add": 3} '
                                '{"name": "old", "set": 1}')
    store.apply(run1, "h")
    assert value(registry, "c_total", hook="h") == 5.0
    store.apply([], "h")   # a run that writes nothing leaves everything alone
    assert value(registry, "c_total", hook="h") == 5.0
    store.apply(parse_metrics_stream('{"name": "c_total", "add": 1}'), "h")
    assert value(registry, "c_total", hook="h") == 1.0       # counters restart each run (1.9+)
    assert value(registry, "old", hook="h") is None           # the whole default group replaced


def test_groups_and_expire(store: HookMetrics, registry: CollectorRegistry) -> None:
    store.apply(parse_metrics_stream(
        '{"name": "a", "set": 1, "group": "g1", "labels": {"n": "1"}}'
        '{"name": "a", "set": 2, "group": "g1", "labels": {"n": "2"}}'
        '{"name": "b", "set": 3, "group": "g2"}'), "h")
    store.apply(parse_metrics_stream('{"name": "a", "set": 9, "group": "g1", "labels": {"n": "3"}}'),
                "h")
    assert value(registry, "a", hook="h", n="1") is None
    assert value(registry, "a", hook="h", n="3") == 9.0
    assert value(registry, "b", hook="h") == 3.0              # a group not named is untouched
    store.apply(parse_metrics_stream('{"group": "g2", "action": "expire"}'), "h")
    assert value(registry, "b", hook="h") is None
    # Groups are per hook: another hook's group of the same name is separate.
    store.apply(parse_metrics_stream('{"name": "a", "set": 4, "group": "g1"}'), "other")
    assert value(registry, "a", hook="h", n="3") == 9.0


def test_observe_accumulates_across_runs(store: HookMetrics, registry: CollectorRegistry) -> None:
    op = '{"name": "lat", "action": "observe", "value": %s, "buckets": [0.1, 1]}'
    store.apply(parse_metrics_stream(op % "0.05"), "h", "m")
    store.apply(parse_metrics_stream(op % "0.5" + '{"name": "x", "set": 1}'), "h", "m")
    labels = {"hook": "h", "module": "m"}
    assert value(registry, "lat_bucket", le="0.1", **labels) == 1.0
    assert value(registry, "lat_bucket", le="1.0", **labels) == 2.0
    assert value(registry, "lat_bucket", le="+Inf", **labels) == 2.0
    assert value(registry, "lat_count", **labels) == 2.0
    assert value(registry, "lat_sum", **labels) == pytest.approx(0.55)


def test_invalid_batch_changes_nothing(store: HookMetrics, registry: CollectorRegistry) -> None:
    store.apply(parse_metrics_stream('{"name": "a", "set": 1}'), "h")
    with pytest.raises(MetricsError, match="metric 'a' is already a gauge"):
        store.apply(parse_metrics_stream('{"name": "b", "set": 2} {"name": "a", "add": 1}'), "h2")
    assert value(registry, "b", hook="h2") is None
    assert value(registry, "a", hook="h") == 1.0
    # The hook that owns the name may change its type: its default group is replaced.
    store.apply(parse_metrics_stream('{"name": "a", "add": 7}'), "h")
    assert value(registry, "a", hook="h") == 7.0


def test_histogram_buckets_cannot_change(store: HookMetrics) -> None:
    store.apply(parse_metrics_stream(
        '{"name": "lat", "action": "observe", "value": 1, "buckets": [1]}'), "h")
    with pytest.raises(MetricsError, match=r"histogram 'lat' has buckets \[1.0\], got \[2.0\]"):
        store.apply(parse_metrics_stream(
            '{"name": "lat", "action": "observe", "value": 1, "buckets": [2]}'), "h")


def test_apply_validates_raw_operations(store: HookMetrics) -> None:
    bad: list[dict[str, Any]] = [{"name": "a", "action": "nope"}]
    with pytest.raises(MetricsError, match="metrics of hook 'h' of module 'm', operation #1"):
        store.apply(bad, "h", "m")


def test_exposition_types_and_mixed_label_sets(store: HookMetrics, registry: CollectorRegistry) -> None:
    store.apply(parse_metrics_stream(
        '{"name": "g", "set": 1, "labels": {"a": "x"}} {"name": "g", "set": 2, "group": "q"}'
        '{"name": "events_total", "add": 1} {"name": "events", "add": 1}'), "h")
    text = generate_latest(registry).decode()
    assert "# TYPE g gauge" in text
    assert 'g{a="x",hook="h"} 1.0' in text and 'g{a="",hook="h"} 2.0' in text
    assert "# TYPE events_total counter" in text and 'events_total{hook="h"} 1.0' in text
    assert "# TYPE events untyped" in text and 'events{hook="h"} 1.0' in text
