"""Parsing and validating the `$METRICS_PATH` file a hook writes (shell-operator's format;
docs/hooks.md, "Metrics"). Pure.

The file is a stream of JSON objects (not an array), whitespace separated; an empty file means
no operations. Each object is one operation: `name`, `action` (`set`, `add`, `observe`,
`expire`), `value`, `buckets` (observe), `labels`, `group`; the deprecated shortcuts `"set": N`
and `"add": N` are accepted. Unknown keys are ignored, as upstream's decoder does. The hook
runner calls `parse_metrics_stream()` after a successful run; a `MetricsError` fails that run.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

from addon_operator.jsonstream import documents

ACTIONS = ("set", "add", "observe", "expire")
_UNGROUPED_ACTIONS = frozenset({"set", "add", "observe"})
_GROUPED_ACTIONS = frozenset({"set", "add", "expire"})
_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

Operation = dict[str, Any]


class MetricsError(ValueError):
    """A metrics file or operation that cannot be applied; the message says where and why."""


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def normalise_operation(raw: Mapping[str, Any], where: str) -> Operation:
    """One validated operation: `action`, `labels` (dict), and `name`, `value`, `buckets`
    (sorted), `group` where they apply. `where` prefixes error messages."""
    if not isinstance(raw, Mapping):
        raise MetricsError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    if "set" in raw and "add" in raw:
        raise MetricsError(f"{where}: 'set' and 'add' cannot both be given")
    action, value = raw.get("action"), raw.get("value")
    for shortcut in ("set", "add"):
        if shortcut in raw:
            action, value = shortcut, raw[shortcut]
    if action not in ACTIONS:
        raise MetricsError(
            f"{where}: 'action' must be one of {', '.join(ACTIONS)}, got {action!r}"
        )
    op: Operation = {"action": action}
    group = raw.get("group")
    if group is not None:
        if not isinstance(group, str) or not group:
            raise MetricsError(f"{where}: 'group' must be a non-empty string, got {group!r}")
        if action not in _GROUPED_ACTIONS:
            raise MetricsError(f"{where}: action {action!r} is not allowed in a group "
                               "(grouped operations are set, add and expire)")
        op["group"] = group
    elif action not in _UNGROUPED_ACTIONS:
        raise MetricsError(f"{where}: action 'expire' needs a 'group'")
    name = raw.get("name")
    if action != "expire":
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise MetricsError(f"{where}: 'name' must be a Prometheus metric name, got {name!r}")
        op["name"] = name
        if not _is_number(value):
            raise MetricsError(f"{where}: metric {name!r}: 'value' must be a number, got {value!r}")
        op["value"] = float(value)
    if action == "observe":
        buckets = raw.get("buckets")
        if not isinstance(buckets, list) or not buckets or not all(_is_number(b) for b in buckets):
            raise MetricsError(
                f"{where}: metric {name!r}: 'buckets' must be a non-empty list of numbers "
                f"for observe, got {buckets!r}"
            )
        op["buckets"] = sorted({float(b) for b in buckets})
    op["labels"] = _labels(raw.get("labels"), where)
    return op


def _labels(labels: Any, where: str) -> dict[str, str]:
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise MetricsError(f"{where}: 'labels' must be an object, got {labels!r}")
    for key, value in labels.items():
        if not isinstance(key, str) or not _LABEL_RE.match(key) or key.startswith("__"):
            raise MetricsError(f"{where}: label name {key!r} is not a valid Prometheus label name")
        if not isinstance(value, str):
            raise MetricsError(f"{where}: label {key!r} must be a string, got {value!r}")
    return dict(labels)


def parse_metrics_stream(text: str, source: str = "metrics file") -> list[Operation]:
    """Every operation in `text`, validated; raises `MetricsError` naming the object number,
    its line and the problem."""
    ops: list[Operation] = []
    try:
        for doc in documents(text):
            where = f"{source}: object #{len(ops) + 1} (line {doc.line})"
            ops.append(normalise_operation(doc.value, where))
    except json.JSONDecodeError as exc:
        raise MetricsError(
            f"{source}: object #{len(ops) + 1}: invalid JSON at line {exc.lineno} "
            f"column {exc.colno}: {exc.msg}"
        ) from None
    return ops
