"""Prometheus metrics: the operator's own (`/metrics`) and those hooks write (`/metrics/hooks`).

`OperatorMetrics` holds the upstream-named operator metrics on an injected registry;
`HookMetrics` stores what hooks write to `$METRICS_PATH` (parsed by `parse_metrics_stream`).
The runtime creates both, each on its own `CollectorRegistry`, and hands the registries to the
HTTP server (`addon_operator.httpserver`).
"""

from .hook_stream import MetricsError, parse_metrics_stream
from .hooks import HookMetrics
from .runtime import (
    DEFAULT_PREFIX,
    OPERATOR_STARTUP,
    ExactNameCounter,
    OperatorMetrics,
    metrics_prefix,
)

__all__ = [
    "DEFAULT_PREFIX",
    "OPERATOR_STARTUP",
    "ExactNameCounter",
    "HookMetrics",
    "MetricsError",
    "OperatorMetrics",
    "metrics_prefix",
    "parse_metrics_stream",
]
