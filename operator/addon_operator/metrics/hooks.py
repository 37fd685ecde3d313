"""Metrics written by hooks, kept between runs and served on `/metrics/hooks`.

The hook runner parses a hook's `$METRICS_PATH` (`hook_stream.parse_metrics_stream`) and calls
`HookMetrics.apply(operations, hook, module)`; the HTTP server exposes the `HookMetrics`
registry. Semantics follow shell-operator since 1.9 (docs/hooks.md, "Metrics"):

- names are used as written (no prefix); labels `hook` and, for module hooks, `module` are
  added and win over a hook's own labels of those names, so no hook can write another's series;
- every `set`/`add` without a group goes to the default group named after the hook; for each
  group named in a batch, the group's stored series are dropped first, then the batch applies
  (so counters restart each run that writes them); `expire` only drops; a run that writes
  nothing leaves everything as it was;
- `observe` (histograms) is never grouped: a grouped observe is rejected as upstream, and an
  ungrouped one accumulates across runs (upstream 1.9 rejects that too, which leaves hooks no
  way to publish a histogram; we keep the documented pre-1.9 behaviour instead);
- groups are scoped per hook, so two hooks using the same group name do not clear each other;
- a batch is validated as a whole first (a name used with two metric types, histogram buckets
  changed for a series): on error nothing is applied and the hook run fails.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    UnknownMetricFamily,
)

from .hook_stream import MetricsError, normalise_operation

Labels = tuple[tuple[str, str], ...]        # sorted label pairs
SeriesKey = tuple[str, Labels]               # (metric name, labels)
GroupKey = tuple[str, str, str]              # (module, hook, group)
_KIND = {"set": "gauge", "add": "counter", "observe": "histogram"}
_DOC = "Metric written by a hook."


@dataclass
class _Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        if not self.counts:
            self.counts = [0] * len(self.buckets)
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[index] += 1
        self.total += value
        self.count += 1


class HookMetrics:
    """The store of hook metrics; also a prometheus-client collector."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self._groups: dict[GroupKey, dict[SeriesKey, tuple[str, float]]] = {}
        self._histograms: dict[SeriesKey, _Histogram] = {}
        self._lock = threading.Lock()
        if registry is not None:
            registry.register(self)

    def apply(self, operations: Sequence[Mapping[str, Any]], hook: str,
              module: str | None = None) -> None:
        """Apply one run's operations for `hook` (of `module`, None for global hooks)."""
        where = f"metrics of hook {hook!r}" + (f" of module {module!r}" if module else "")
        ops = [normalise_operation(op, f"{where}, operation #{i}")
               for i, op in enumerate(operations, 1)]
        extra = {"hook": hook} | ({"module": module} if module else {})
        scope = (module or "", hook)
        with self._lock:
            touched = {(*scope, op.get("group", hook)) for op in ops if op["action"] != "observe"}
            self._check(ops, extra, touched, where)
            for group in touched:
                self._groups.pop(group, None)
            for op in ops:
                if op["action"] == "expire":
                    continue
                key = (op["name"], tuple(sorted((op["labels"] | extra).items())))
                if op["action"] == "observe":
                    self._histograms.setdefault(key, _Histogram(tuple(op["buckets"]))).observe(
                        op["value"])
                    continue
                series = self._groups.setdefault((*scope, op.get("group", hook)), {})
                previous = series.get(key, ("", 0.0))[1] if op["action"] == "add" else 0.0
                series[key] = (_KIND[op["action"]], previous + op["value"])

    def _check(self, ops: list[dict[str, Any]], extra: dict[str, str],
               cleared: set[GroupKey], where: str) -> None:
        kinds: dict[str, str] = {}
        for group, series in self._groups.items():
            if group not in cleared:
                kinds.update({name: kind for (name, _), (kind, _) in series.items()})
        kinds.update({name: "histogram" for name, _ in self._histograms})
        for index, op in enumerate(ops, 1):
            if op["action"] == "expire":
                continue
            kind, name = _KIND[op["action"]], op["name"]
            if kinds.setdefault(name, kind) != kind:
                raise MetricsError(
                    f"{where}, operation #{index}: metric {name!r} is already a "
                    f"{kinds[name]}, it cannot be used with action {op['action']!r}"
                )
            if kind == "histogram":
                known = self._histograms.get((name, tuple(sorted((op["labels"] | extra).items()))))
                if known is not None and known.buckets != tuple(op["buckets"]):
                    raise MetricsError(
                        f"{where}, operation #{index}: histogram {name!r} has buckets "
                        f"{list(known.buckets)}, got {op['buckets']}"
                    )

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            plain: dict[str, tuple[str, list[tuple[Labels, float]]]] = {}
            for series in self._groups.values():
                for (name, labels), (kind, value) in series.items():
                    plain.setdefault(name, (kind, []))[1].append((labels, value))
            histograms = {key: (h.buckets, list(h.counts), h.total, h.count)
                          for key, h in self._histograms.items()}
        families: list[Metric] = [
            _family(name, kind, samples) for name, (kind, samples) in plain.items()
        ]
        by_name: dict[str, list[tuple[Labels, Any]]] = {}
        for (name, labels), data in histograms.items():
            by_name.setdefault(name, []).append((labels, data))
        families += [_histogram_family(name, samples) for name, samples in by_name.items()]
        return sorted(families, key=lambda f: f.name)


def _label_names(samples: Iterable[tuple[Labels, Any]]) -> list[str]:
    """The union of label names; a label a series lacks is exposed empty (Prometheus treats
    an empty label as absent), so series of one name may carry different label sets."""
    return sorted({key for labels, _ in samples for key, _ in labels})


def _family(name: str, kind: str, samples: list[tuple[Labels, float]]) -> Metric:
    names = _label_names(samples)
    family: GaugeMetricFamily | CounterMetricFamily | UnknownMetricFamily
    if kind == "gauge":
        family = GaugeMetricFamily(name, _DOC, labels=names)
    elif name.endswith("_total"):
        family = CounterMetricFamily(name, _DOC, labels=names)
    else:
        # A Counter would be exposed as `<name>_total`; keep the hook's exact name instead.
        family = UnknownMetricFamily(name, _DOC, labels=names)
    for labels, value in sorted(samples):
        values = dict(labels)
        family.add_metric([values.get(n, "") for n in names], value)
    return family


def _histogram_family(name: str, samples: list[tuple[Labels, Any]]) -> Metric:
    names = _label_names(samples)
    family = HistogramMetricFamily(name, _DOC, labels=names)
    for labels, (bounds, counts, total, count) in sorted(samples, key=lambda s: s[0]):
        values = dict(labels)
        cumulative = [(_bound(b), float(c)) for b, c in zip(bounds, counts)]
        cumulative.append(("+Inf", float(count)))
        family.add_metric([values.get(n, "") for n in names], cumulative, total)
    return family


def _bound(value: float) -> str:
    return str(int(value)) + ".0" if value.is_integer() else repr(value)
