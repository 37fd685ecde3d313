"""The operator's own Prometheus metrics, served on `/metrics` (docs/operations.md, "Metrics").

Names and label names are upstream's, under the prefix from
`ADDON_OPERATOR_PROMETHEUS_METRICS_PREFIX` (default `addon_operator_`), so dashboards built for
flant/addon-operator keep working. The runtime (task handlers, the hook runner, the Helm
phase, the queue) creates one `OperatorMetrics` on a registry it owns and records through its
attributes and helpers; tests pass a fresh `CollectorRegistry`.

Two upstream counters have no `_total` suffix (`live_ticks`, `convergence_seconds`).
prometheus-client appends `_total` to every Counter, so those two are `ExactNameCounter`s:
monotonic, exposed under the exact upstream name as untyped samples.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric, UnknownMetricFamily

from addon_operator.status.hooks import HookResult

PREFIX_ENV = (
    "ADDON_OPERATOR_PROMETHEUS_METRICS_PREFIX", "SHELL_OPERATOR_PROMETHEUS_METRICS_PREFIX",
)
DEFAULT_PREFIX = "addon_operator_"
_PREFIX_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)?$")

# Upstream hook-run buckets (shell-operator `hook_run_seconds`: 0, 0.02 ... 500).
DURATION_BUCKETS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500)
# Upstream queue-operation buckets (shell-operator `tasks_queue_action_duration_seconds`).
QUEUE_ACTION_BUCKETS = (0.0, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                        0.1, 0.2, 0.5)

MODULE_HOOK_LABELS = ("module", "hook", "binding", "queue", "activation")
GLOBAL_HOOK_LABELS = ("hook", "binding", "queue", "activation")
OPERATOR_STARTUP = "OperatorStartup"   # the `activation` label of bootstrap tasks


def metrics_prefix(environ: Mapping[str, str] | None = None) -> str:
    """The metric-name prefix from the environment (first variable set wins)."""
    env = os.environ if environ is None else environ
    for name in PREFIX_ENV:
        if name in env:
            value = env[name]
            if not _PREFIX_RE.match(value):
                raise ValueError(
                    f"{name}={value!r} is not a valid Prometheus metric name prefix "
                    "(letters, digits, '_' and ':', not starting with a digit)"
                )
            return value
    return DEFAULT_PREFIX


class ExactNameCounter:
    """A monotonic counter exposed under exactly `name` (no `_total` appended)."""

    def __init__(self, name: str, documentation: str, labelnames: Iterable[str] = (),
                 registry: CollectorRegistry | None = None) -> None:
        self._name = name
        self._documentation = documentation
        self._labelnames = tuple(labelnames)
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()
        if not self._labelnames:
            self._values[()] = 0.0
        if registry is not None:
            registry.register(self)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError(f"{self._name}: counters only go up, got {amount}")
        if set(labels) != set(self._labelnames):
            raise ValueError(
                f"{self._name}: labels {sorted(labels)} given, expected {sorted(self._labelnames)}"
            )
        key = tuple(str(labels[n]) for n in self._labelnames)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        key = tuple(str(labels[n]) for n in self._labelnames)
        with self._lock:
            return self._values.get(key, 0.0)

    def collect(self) -> Iterable[Metric]:
        family = UnknownMetricFamily(self._name, self._documentation, labels=self._labelnames)
        with self._lock:
            for key, value in sorted(self._values.items()):
                family.add_metric(list(key), value)
        return [family]

    def describe(self) -> Iterable[Metric]:
        return [UnknownMetricFamily(self._name, self._documentation, labels=self._labelnames)]


class OperatorMetrics:
    """Every operator metric, registered on `registry` with names under `prefix`."""

    def __init__(self, registry: CollectorRegistry, prefix: str = DEFAULT_PREFIX) -> None:
        self.registry = registry
        p = prefix

        def counter(name: str, doc: str, labels: Iterable[str] = ()) -> Counter:
            return Counter(p + name, doc, tuple(labels), registry=registry)

        def histogram(name: str, doc: str, labels: Iterable[str]) -> Histogram:
            return Histogram(p + name, doc, tuple(labels), registry=registry,
                             buckets=DURATION_BUCKETS)

        def gauge(name: str, doc: str, labels: Iterable[str]) -> Gauge:
            return Gauge(p + name, doc, tuple(labels), registry=registry)

        # Health and converge.
        self.live_ticks = ExactNameCounter(p + "live_ticks", "Ticks every 10 s while alive.",
                                           registry=registry)
        self.convergence_seconds = ExactNameCounter(
            p + "convergence_seconds", "Time spent converging modules.", ("activation",), registry)
        self.convergence_total = counter("convergence_total", "Converges done.", ("activation",))
        # Configuration and discovery.
        self.config_values_errors_total = counter(
            "config_values_errors_total", "Invalid Module or GlobalConfig settings seen.")
        self.modules_discover_errors_total = counter(
            "modules_discover_errors_total", "Failed converges (enablement, validation).")
        self.binding_count = gauge("binding_count", "Bindings per hook (module \"\" for global "
                                   "hooks).", ("module", "hook"))
        # Module runs and Helm.
        self.module_run_seconds = histogram(
            "module_run_seconds", "Duration of ModuleRun tasks.", ("module", "activation"))
        self.module_run_errors_total = counter(
            "module_run_errors_total", "Failed ModuleRun tasks.", ("module",))
        self.module_delete_errors_total = counter(
            "module_delete_errors_total", "Failed ModuleDelete tasks.", ("module",))
        # The resource monitor (auto-heal).
        self.modules_helm_release_redeployed_total = counter(
            "modules_helm_release_redeployed_total",
            "Releases the resource monitor found missing or not deployed.", ("module",))
        self.modules_absent_resources_total = counter(
            "modules_absent_resources_total",
            "Objects of a release the resource monitor found absent (ns/kind/name).",
            ("module", "resource"))
        self.module_helm_seconds = histogram(
            "module_helm_seconds", "Duration of a module's Helm phase.", ("module", "activation"))
        self.helm_operation_seconds = histogram(
            "helm_operation_seconds", "Duration of one helm operation (template, "
            "check-upgrade, upgrade, uninstall).", ("module", "activation", "operation"))
        # Hooks.
        self.module_hook = _HookRunMetrics(p + "module_hook_", MODULE_HOOK_LABELS, registry)
        self.global_hook = _HookRunMetrics(p + "global_hook_", GLOBAL_HOOK_LABELS, registry)
        # Queues.
        self.tasks_queue_length = gauge("tasks_queue_length", "Tasks in a queue.", ("queue",))
        self.tasks_queue_action_duration_seconds = Histogram(
            p + "tasks_queue_action_duration_seconds", "Duration of a queue operation.",
            ("queue_name", "queue_action"), registry=registry, buckets=QUEUE_ACTION_BUCKETS)
        self.task_wait_in_queue_seconds_total = counter(
            "task_wait_in_queue_seconds_total", "Time tasks waited, ready, in a queue before "
            "a worker took them.", ("module", "hook", "binding", "queue"))

    def record_hook_run(self, *, module: str | None, hook: str, binding: str, queue: str,
                        activation: str, seconds: float, result: HookResult,
                        user_cpu: float | None = None, sys_cpu: float | None = None,
                        max_rss_bytes: float | None = None) -> None:
        """One finished hook run: `module_hook_*` for module hooks, `global_hook_*` when
        `module` is None. CPU and RSS figures are recorded when the runner measured them."""
        labels = {"hook": hook, "binding": binding, "queue": queue, "activation": activation}
        family = self.global_hook if module is None else self.module_hook
        if module is not None:
            labels["module"] = module
        family.record(labels, seconds, result, user_cpu, sys_cpu, max_rss_bytes)

    def set_queue_lengths(self, lengths: Mapping[str, int]) -> None:
        """`tasks_queue_length` for every queue (`TaskQueues.lengths()`)."""
        for queue, length in lengths.items():
            self.tasks_queue_length.labels(queue=queue).set(length)


class _HookRunMetrics:
    """The `<kind>_hook_run_*` and `<kind>_hook_*_total` family of module or global hooks."""

    def __init__(self, prefix: str, labels: tuple[str, ...], registry: CollectorRegistry) -> None:
        def histogram(name: str, doc: str) -> Histogram:
            return Histogram(prefix + name, doc, labels, registry=registry,
                             buckets=DURATION_BUCKETS)

        self.run_seconds = histogram("run_seconds", "Hook run duration.")
        self.run_user_cpu_seconds = histogram("run_user_cpu_seconds", "Hook user CPU time.")
        self.run_sys_cpu_seconds = histogram("run_sys_cpu_seconds", "Hook system CPU time.")
        self.run_max_rss_bytes = Gauge(prefix + "run_max_rss_bytes", "Hook peak RSS.", labels,
                                       registry=registry)
        self.errors_total = Counter(prefix + "errors_total", "Failed hook runs.", labels,
                                    registry=registry)
        self.allowed_errors_total = Counter(
            prefix + "allowed_errors_total", "Failed runs of hooks with allowFailure.", labels,
            registry=registry)
        self.success_total = Counter(prefix + "success_total", "Successful hook runs.", labels,
                                     registry=registry)

    def record(self, labels: dict[str, Any], seconds: float, result: HookResult,
               user_cpu: float | None, sys_cpu: float | None, max_rss: float | None) -> None:
        self.run_seconds.labels(**labels).observe(seconds)
        if user_cpu is not None:
            self.run_user_cpu_seconds.labels(**labels).observe(user_cpu)
        if sys_cpu is not None:
            self.run_sys_cpu_seconds.labels(**labels).observe(sys_cpu)
        if max_rss is not None:
            self.run_max_rss_bytes.labels(**labels).set(max_rss)
        outcome = {
            HookResult.SUCCEEDED: self.success_total,
            HookResult.FAILED: self.errors_total,
            HookResult.ALLOWED_FAILURE: self.allowed_errors_total,
        }[result]
        outcome.labels(**labels).inc()
