"""Server-side printing: build `meta.k8s.io/v1` `Table` responses like the Kubernetes API server.

`kubectl get` asks for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`; the sandbox server
answers with `build_table`, fed with a CRD version's `additionalPrinterColumns` or with
`default_columns_for(kind)` for built-in kinds. Cells follow apiextensions-apiserver's table
convertor: a `Name` column first, JSONPath (`jsonpath.py`) evaluated with missing keys allowed,
only the first match used, a missing value gives a null cell (kubectl prints it blank), `date` columns rendered as a
human age (`5m`, `3h2m`, `2d`) as `duration.HumanDuration` does, `integer`/`number`/`boolean`
columns keep JSON types, `string` columns print the value as client-go's JSONPath printer does.

Built-in column sets may compute a cell with a Python callable under the key `value` instead of a
`jsonPath`, called as `value(obj, now)` (the real server uses Go printers for those kinds, which
JSONPath cannot express).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from .jsonpath import JsonPathError, Step, find_results, parse_jsonpath

NAME_DESCRIPTION = "Name must be unique within a namespace. Cannot be updated."
AGE_DESCRIPTION = "CreationTimestamp is a timestamp representing the server time when this object was created."
AGE_COLUMN = {"name": "Age", "type": "date", "description": AGE_DESCRIPTION,
              "jsonPath": ".metadata.creationTimestamp"}
INCLUDE_OBJECT_VALUES = ("None", "Metadata", "Object")


# ----------------------------------------------------------------------------- cell rendering

def human_duration(seconds_total: float) -> str:
    """Render a duration like k8s.io/apimachinery `duration.HumanDuration` (`90s`, `5m3s`, `3h2m`, `2d`)."""
    seconds = int(seconds_total)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def parse_timestamp(text: str) -> datetime | None:
    """Parse an RFC 3339 timestamp (`2024-01-02T03:04:05Z`, offsets and fractions allowed)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def age(timestamp: Any, now: datetime) -> str:
    """A `date` cell: the age of an RFC 3339 timestamp; `<unknown>` if unset, `<invalid>` if bad."""
    if timestamp is None:
        return "<unknown>"
    moment = parse_timestamp(timestamp) if isinstance(timestamp, str) else None
    if moment is None:
        return "<invalid>"
    return human_duration((now - moment).total_seconds())


def go_text(value: Any) -> str:
    """Print a JSON value as client-go's JSONPath printer does (Go `fmt` for scalars, JSON else)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def _go_float(value: float) -> str:
    """Go's `%v` for float64: shortest round-trip digits, exponent form when exp < -4 or exp >= 6."""
    if value == 0:
        return "0"
    exact = Decimal(repr(value))
    exponent = exact.adjusted()
    if exponent < -4 or exponent >= 6:
        digits = "".join(str(d) for d in exact.as_tuple().digits).rstrip("0") or "0"
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        sign = "-" if value < 0 else ""
        return f"{sign}{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent):02d}"
    text = format(exact, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def cell_for(column_type: str, value: Any, now: datetime) -> Any:
    """Convert the first JSONPath match to a cell of the column's type (None when it does not fit)."""
    if value is None:
        return None
    if column_type == "string":
        return go_text(value)
    if column_type == "integer" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if column_type == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if column_type == "boolean" and isinstance(value, bool):
        return value
    if column_type == "date" and isinstance(value, str):
        return age(value, now)
    return None


# ----------------------------------------------------------------------------- tables

Compute = Callable[[dict[str, Any], datetime], Any]


@dataclass(frozen=True)
class Column:
    """A printer column ready for evaluation."""

    definition: dict[str, Any]
    steps: tuple[Step, ...] | None
    compute: Compute | None


def _compile(column: dict[str, Any]) -> Column:
    definition = {"name": column["name"], "type": column.get("type", "string"),
                  "format": column.get("format", ""), "description": column.get("description", ""),
                  "priority": int(column.get("priority", 0))}
    compute = column.get("value")
    if compute is not None:
        return Column(definition, None, compute)
    try:
        steps = parse_jsonpath(column.get("jsonPath", ""))
    except JsonPathError as exc:
        raise JsonPathError(f"printer column {column['name']!r}: {exc}") from None
    return Column(definition, steps, None)


def _cell(column: Column, obj: dict[str, Any], now: datetime) -> Any:
    if column.compute is not None:
        return column.compute(obj, now)
    assert column.steps is not None
    results = find_results(column.steps, obj)
    return cell_for(column.definition["type"], results[0] if results else None, now)


def _row_object(obj: dict[str, Any], include_object: str) -> dict[str, Any] | None:
    if include_object == "Object":
        return obj
    if include_object == "Metadata":
        return {"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
                "metadata": obj.get("metadata", {})}
    return None


def build_table(
    objects: list[dict[str, Any]],
    columns: list[dict[str, Any]] | None,
    *,
    include_object: str = "Metadata",
    list_meta: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A `meta.k8s.io/v1` Table of `objects`: `Name` then `columns` (None → Name + Age).

    `include_object` is the request's `includeObject` (`None`, `Metadata`, `Object`); with `None`
    rows carry no `object`. Raises ValueError for an unknown `include_object` and JsonPathError
    naming the column for an unparsable `jsonPath`.
    """
    if include_object not in INCLUDE_OBJECT_VALUES:
        raise ValueError(
            f"includeObject {include_object!r} is not one of {', '.join(INCLUDE_OBJECT_VALUES)}"
        )
    moment = now or datetime.now(timezone.utc)
    name_column = Column(
        {"name": "Name", "type": "string", "format": "name",
         "description": NAME_DESCRIPTION, "priority": 0},
        None,
        lambda obj, _now: obj.get("metadata", {}).get("name", ""),
    )
    compiled = [name_column] + [_compile(c) for c in (columns if columns is not None else [AGE_COLUMN])]
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": [_cell(column, obj, moment) for column in compiled]}
        row_object = _row_object(obj, include_object)
        if row_object is not None:
            row["object"] = row_object
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(list_meta or {}),
        "columnDefinitions": [column.definition for column in compiled],
        "rows": rows,
    }


# ----------------------------------------------------------------------------- built-in kinds

def _col(name: str, compute: Compute, *, type_: str = "string", priority: int = 0) -> dict[str, Any]:
    return {"name": name, "type": type_, "format": "", "description": "", "priority": priority,
            "value": compute}


def _get(obj: dict[str, Any], *keys: str, default: Any = None) -> Any:
    value: Any = obj
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            return default
    return value


def _count(*keys: str) -> Compute:
    return lambda obj, _now: sum(len(obj.get(key) or {}) for key in keys)


def _path(*keys: str, default: Any = "<none>") -> Compute:
    return lambda obj, _now: _get(obj, *keys, default=default)


def _ratio(ready: tuple[str, ...], total: tuple[str, ...]) -> Compute:
    return lambda obj, _now: f"{_get(obj, *ready, default=0)}/{_get(obj, *total, default=0)}"


def _pod_ready(obj: dict[str, Any], _now: datetime) -> str:
    statuses = _get(obj, "status", "containerStatuses", default=[])
    ready = sum(1 for status in statuses if status.get("ready"))
    return f"{ready}/{len(_get(obj, 'spec', 'containers', default=[]))}"


def _pod_status(obj: dict[str, Any], _now: datetime) -> str:
    if _get(obj, "metadata", "deletionTimestamp"):
        return "Terminating"
    status: str = _get(obj, "status", "reason") or _get(obj, "status", "phase", default="Pending")
    return status


def _job_status(obj: dict[str, Any], _now: datetime) -> str:
    true = {c.get("type") for c in _get(obj, "status", "conditions", default=[])
            if c.get("status") == "True"}
    shown = [condition for condition in ("Complete", "Failed", "Suspended") if condition in true]
    if shown:
        return shown[0]
    return "Terminating" if _get(obj, "metadata", "deletionTimestamp") else "Running"


def _service_ports(obj: dict[str, Any], _now: datetime) -> str:
    ports = _get(obj, "spec", "ports", default=[])
    return ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>"


def _event_object(obj: dict[str, Any], _now: datetime) -> str:
    ref = obj.get("involvedObject") or obj.get("regarding") or {}
    return f"{str(ref.get('kind', '')).lower()}/{ref.get('name', '')}"


def _event_last_seen(obj: dict[str, Any], now: datetime) -> str:
    return age(_get(obj, "series", "lastObservedTime") or obj.get("lastTimestamp")
               or obj.get("eventTime") or obj.get("deprecatedLastTimestamp")
               or _get(obj, "metadata", "creationTimestamp"), now)


_AGE = _col("Age", lambda obj, now: age(_get(obj, "metadata", "creationTimestamp"), now))
_CREATED_AT = _col("Created At", _path("metadata", "creationTimestamp", default="<unknown>"))
_ROLE = _col("Role", lambda obj, _now: "/".join(
    str(_get(obj, "roleRef", key, default="")) for key in ("kind", "name")))
_EVENT = [_col("Last Seen", _event_last_seen), _col("Type", _path("type", default="")),
          _col("Reason", _path("reason", default="")), _col("Object", _event_object),
          _col("Message", lambda obj, _now: str(obj.get("message") or obj.get("note") or "").strip())]
BUILTIN_COLUMNS: dict[str, list[dict[str, Any]]] = {
    "Namespace": [_col("Status", _path("status", "phase", default="Active")), _AGE],
    "ConfigMap": [_col("Data", _count("data", "binaryData"), type_="integer"), _AGE],
    "Secret": [_col("Type", _path("type", default="Opaque")),
               _col("Data", _count("data"), type_="integer"), _AGE],
    "Pod": [_col("Ready", _pod_ready), _col("Status", _pod_status),
            _col("Restarts", lambda obj, _now: sum(s.get("restartCount", 0) for s in _get(
                obj, "status", "containerStatuses", default=[])), type_="integer"), _AGE,
            _col("IP", _path("status", "podIP"), priority=1),
            _col("Node", _path("spec", "nodeName"), priority=1)],
    "Deployment": [_col("Ready", _ratio(("status", "readyReplicas"), ("spec", "replicas"))),
                   _col("Up-to-date", _path("status", "updatedReplicas", default=0), type_="integer"),
                   _col("Available", _path("status", "availableReplicas", default=0),
                        type_="integer"), _AGE],
    "ReplicaSet": [_col("Desired", _path("spec", "replicas", default=0), type_="integer"),
                   _col("Current", _path("status", "replicas", default=0), type_="integer"),
                   _col("Ready", _path("status", "readyReplicas", default=0), type_="integer"),
                   _AGE],
    "StatefulSet": [_col("Ready", _ratio(("status", "readyReplicas"), ("spec", "replicas"))), _AGE],
    "DaemonSet": [_col(name, _path("status", key, default=0), type_="integer") for name, key in (
        ("Desired", "desiredNumberScheduled"), ("Current", "currentNumberScheduled"),
        ("Ready", "numberReady"), ("Up-to-date", "updatedNumberScheduled"),
        ("Available", "numberAvailable"))] + [_AGE],
    "Job": [_col("Status", _job_status),
            _col("Completions", _ratio(("status", "succeeded"), ("spec", "completions"))), _AGE],
    "CronJob": [_col("Schedule", _path("spec", "schedule", default="")),
                _col("Suspend", _path("spec", "suspend", default=False), type_="boolean"),
                _col("Active", lambda obj, _now: len(_get(obj, "status", "active", default=[])),
                     type_="integer"), _AGE],
    "Service": [_col("Type", _path("spec", "type", default="ClusterIP")),
                _col("Cluster-IP", _path("spec", "clusterIP", default="<none>")),
                _col("Port(s)", _service_ports), _AGE],
    "Event": _EVENT,
    "Lease": [_col("Holder", _path("spec", "holderIdentity", default="")), _AGE],
    "RoleBinding": [_ROLE, _AGE],
    "ClusterRoleBinding": [_ROLE, _AGE],
    "Role": [_CREATED_AT],
    "ClusterRole": [_CREATED_AT],
    "CustomResourceDefinition": [_CREATED_AT],
}


def default_columns_for(kind: str) -> list[dict[str, Any]] | None:
    """Printer columns for a built-in kind, like the API server's Go printers; None → Name + Age."""
    return BUILTIN_COLUMNS.get(kind)
