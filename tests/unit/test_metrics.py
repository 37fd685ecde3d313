"""Operator metrics: upstream names and labels, the prefix setting, exact-name counters."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from addon_operator.metrics import ExactNameCounter, OperatorMetrics, metrics_prefix
from addon_operator.status import HookResult


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def exposed(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()


def test_upstream_names_are_exposed_with_the_prefix(registry: CollectorRegistry) -> None:
    OperatorMetrics(registry)
    text = exposed(registry)
    for name in (
        "live_ticks", "convergence_seconds", "convergence_total", "config_values_errors_total",
        "modules_discover_errors_total", "binding_count", "module_run_seconds",
        "module_run_errors_total", "module_delete_errors_total", "module_helm_seconds",
        "helm_operation_seconds", "module_hook_run_seconds", "module_hook_run_user_cpu_seconds",
        "module_hook_run_sys_cpu_seconds", "module_hook_run_max_rss_bytes",
        "module_hook_errors_total", "module_hook_allowed_errors_total",
        "module_hook_success_total", "global_hook_run_seconds", "global_hook_errors_total",
        "global_hook_allowed_errors_total", "global_hook_success_total", "tasks_queue_length",
        "tasks_queue_action_duration_seconds", "task_wait_in_queue_seconds_total",
    ):
        assert f"# TYPE addon_operator_{name} " in text, name


def test_custom_prefix(registry: CollectorRegistry) -> None:
    metrics = OperatorMetrics(registry, prefix="ao_")
    metrics.module_run_errors_total.labels(module="echo").inc()
    assert registry.get_sample_value("ao_module_run_errors_total", {"module": "echo"}) == 1.0
    assert "addon_operator_" not in exposed(registry)


@pytest.mark.parametrize("environ,expected", [
    ({}, "addon_operator_"),
    ({"ADDON_OPERATOR_PROMETHEUS_METRICS_PREFIX": "x_"}, "x_"),
    ({"ADDON_OPERATOR_PROMETHEUS_METRICS_PREFIX": ""}, ""),
    ({"SHELL_OPERATOR_PROMETHEUS_METRICS_PREFIX": "so_"}, "so_"),
    ({"ADDON_OPERATOR_PROMETHEUS_METRICS_PREFIX": "a_",
      "SHELL_OPERATOR_PROMETHEUS_METRICS_PREFIX": "so_"}, "a_"),
])
def test_metrics_prefix(environ: dict[str, str], expected: str) -> None:
    assert metrics_prefix(environ) == expected


def test_invalid_prefix_names_the_variable() -> None:
    with pytest.raises(ValueError, match="ADDON_OPERATOR_PROMETHEUS_METRICS_PREFIX='9-bad'"):
        metrics_prefix({"ADDON_OPERATOR_PROMETHEUS_METRICS_PREFIX": "9-bad"})


def test_exact_name_counters_keep_upstream_names(registry: CollectorRegistry) -> None:
    metrics = OperatorMetrics(registry)
    metrics.live_ticks.inc()
    metrics.live_ticks.inc()
    metrics.convergence_seconds.inc(1.5, activation="OperatorStartup")
    text = exposed(registry)
    assert "addon_operator_live_ticks 2.0" in text
    assert 'addon_operator_convergence_seconds{activation="OperatorStartup"} 1.5' in text
    assert "live_ticks_total" not in text and "convergence_seconds_total" not in text
    assert registry.get_sample_value("addon_operator_live_ticks") == 2.0


def test_exact_name_counter_rejects_bad_use(registry: CollectorRegistry) -> None:
    counter = ExactNameCounter("c", "doc", ("activation",), registry)
    with pytest.raises(ValueError, match="only go up"):
        counter.inc(-1, activation="")
    with pytest.raises(ValueError, match="expected \\['activation'\\]"):
        counter.inc(1, queue="main")
    counter.inc(2, activation="")
    assert counter.value(activation="") == 2.0


@pytest.mark.parametrize("result,counter", [
    (HookResult.SUCCEEDED, "success_total"),
    (HookResult.FAILED, "errors_total"),
    (HookResult.ALLOWED_FAILURE, "allowed_errors_total"),
])
def test_record_module_hook_run(registry: CollectorRegistry, result: HookResult, counter: str) -> None:
    metrics = OperatorMetrics(registry)
    metrics.record_hook_run(module="echo", hook="hooks/a", binding="beforeHelm", queue="main",
                            activation="OperatorStartup", seconds=0.25, result=result,
                            user_cpu=0.1, max_rss_bytes=1024)
    labels = {"module": "echo", "hook": "hooks/a", "binding": "beforeHelm", "queue": "main",
              "activation": "OperatorStartup"}
    assert registry.get_sample_value(f"addon_operator_module_hook_{counter}", labels) == 1.0
    assert registry.get_sample_value("addon_operator_module_hook_run_seconds_sum", labels) == 0.25
    assert registry.get_sample_value("addon_operator_module_hook_run_seconds_bucket",
                                     {**labels, "le": "0.5"}) == 1.0
    assert registry.get_sample_value("addon_operator_module_hook_run_user_cpu_seconds_count",
                                     labels) == 1.0
    assert registry.get_sample_value("addon_operator_module_hook_run_sys_cpu_seconds_count",
                                     labels) is None
    assert registry.get_sample_value("addon_operator_module_hook_run_max_rss_bytes", labels) == 1024


def test_record_global_hook_run_has_no_module_label(registry: CollectorRegistry) -> None:
    metrics = OperatorMetrics(registry)
    metrics.record_hook_run(module=None, hook="startup", binding="onStartup", queue="main",
                            activation="", seconds=1.0, result=HookResult.SUCCEEDED)
    labels = {"hook": "startup", "binding": "onStartup", "queue": "main", "activation": ""}
    assert registry.get_sample_value("addon_operator_global_hook_success_total", labels) == 1.0
    assert registry.get_sample_value("addon_operator_module_hook_success_total",
                                     {**labels, "module": ""}) is None


def test_queue_lengths(registry: CollectorRegistry) -> None:
    metrics = OperatorMetrics(registry)
    metrics.set_queue_lengths({"main": 3, "hooks": 0})
    metrics.set_queue_lengths({"main": 1})
    assert registry.get_sample_value("addon_operator_tasks_queue_length", {"queue": "main"}) == 1
    assert registry.get_sample_value("addon_operator_tasks_queue_length", {"queue": "hooks"}) == 0


def test_two_instances_need_two_registries(registry: CollectorRegistry) -> None:
    OperatorMetrics(registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        OperatorMetrics(registry)
    OperatorMetrics(CollectorRegistry())
