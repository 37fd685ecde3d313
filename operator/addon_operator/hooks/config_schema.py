"""The `--config` document schemas (v0 and v1, with addon-operator's lifecycle keys) as data.

Cerberus rule sets mirror shell-operator's embedded OpenAPI schemas: every key, its type and
whether it is required; unknown keys are rejected wherever upstream sets
`additionalProperties: false` (everywhere in v1; at the top level only in v0, whose binding
items are read leniently, unknown keys ignored). `config.py` calls `schema_problems()` first and
runs the cross-field checks only on a document that passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import cerberus
from cerberus import errors as cerberus_errors

from .config_model import EVENT_TYPES
from .errors import format_path

HookKind = Literal["global", "module"]

LIFECYCLE_KEYS: dict[str, tuple[str, ...]] = {
    "global": ("beforeAll", "afterAll"),
    "module": ("beforeHelm", "afterHelm", "beforeDeleteHelm", "afterDeleteHelm"),
}
V0_EVENTS = {"add": "Added", "update": "Modified", "delete": "Deleted"}
LABEL_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
FIELD_OPERATORS = ("=", "==", "Equals", "!=", "NotEquals")

_STRING = {"type": "string"}
_BOOL = {"type": "boolean"}
_INTEGER = {"type": "integer"}  # JSON numbers with an integral value; never a boolean
_STRINGS = {"type": "list", "schema": _STRING}
_NON_EMPTY_STRINGS = {"type": "list", "schema": _STRING, "minlength": 1}


def _required(rules: Mapping[str, Any]) -> dict[str, Any]:
    return {**rules, "required": True}


def _mapping(schema: Mapping[str, Any], **rules: Any) -> dict[str, Any]:
    return {"type": "dict", "schema": dict(schema), **rules}


def _list_of(item: Mapping[str, Any], **rules: Any) -> dict[str, Any]:
    return {"type": "list", "schema": dict(item), **rules}


_LABEL_SELECTOR = _mapping(
    {
        "matchLabels": {"type": "dict", "keysrules": _STRING, "valuesrules": _STRING},
        "matchExpressions": _list_of(
            _mapping(
                {
                    "key": _required(_STRING),
                    "operator": _required({**_STRING, "allowed": LABEL_OPERATORS}),
                    "values": _STRINGS,
                }
            )
        ),
    },
    minlength=1,
    maxlength=2,
)
_NAME_SELECTOR = _mapping({"matchNames": _required(_STRINGS)})
_FIELD_SELECTOR = _mapping(
    {
        "matchExpressions": _required(
            _list_of(
                _mapping(
                    {
                        "field": _required(_STRING),
                        "operator": _required({**_STRING, "allowed": FIELD_OPERATORS}),
                        "value": _required(_STRING),
                    }
                )
            )
        )
    }
)
_EVENTS = _list_of({**_STRING, "allowed": EVENT_TYPES})

_SCHEDULE_V1 = _mapping(
    {
        "name": _STRING,
        "crontab": _required(_STRING),
        "allowFailure": _BOOL,
        "includeSnapshotsFrom": _NON_EMPTY_STRINGS,
        "queue": _STRING,
        "group": _STRING,
    }
)
_KUBERNETES_V1 = _mapping(
    {
        "name": _STRING,
        "apiVersion": _STRING,
        "kind": _required(_STRING),
        "executeHookOnEvent": _EVENTS,
        "watchEvent": _EVENTS,  # the older name of executeHookOnEvent
        "executeHookOnSynchronization": _BOOL,
        "waitForSynchronization": _BOOL,
        "keepFullObjectsInMemory": _BOOL,
        "resynchronizationPeriod": _STRING,  # accepted; upstream never reads it
        "nameSelector": _NAME_SELECTOR,
        "labelSelector": _LABEL_SELECTOR,
        "fieldSelector": _FIELD_SELECTOR,
        "namespace": _mapping({"nameSelector": _NAME_SELECTOR, "labelSelector": _LABEL_SELECTOR}),
        "jqFilter": _STRING,
        "includeSnapshotsFrom": _NON_EMPTY_STRINGS,
        "allowFailure": _BOOL,
        "queue": _STRING,
        "group": _STRING,
    }
)
_ADMISSION_V1 = _mapping(
    {
        "name": _required(_STRING),
        "group": _STRING,
        "includeSnapshotsFrom": _NON_EMPTY_STRINGS,
        "labelSelector": _LABEL_SELECTOR,
        "namespace": _mapping({"labelSelector": _LABEL_SELECTOR}),
        "rules": _list_of(
            _mapping(
                {
                    "apiVersions": _required(_NON_EMPTY_STRINGS),
                    "apiGroups": _required(_NON_EMPTY_STRINGS),
                    "resources": _required(_NON_EMPTY_STRINGS),
                    "operations": _required(
                        _list_of(
                            {**_STRING, "allowed": ("CREATE", "UPDATE", "DELETE", "CONNECT", "*")},
                            minlength=1,
                        )
                    ),
                    "scope": {**_STRING, "allowed": ("Cluster", "Namespaced", "*")},
                }
            )
        ),
        "failurePolicy": {**_STRING, "allowed": ("Ignore", "Fail")},
        "sideEffects": {**_STRING, "allowed": ("None", "NoneOnDryRun")},
        "timeoutSeconds": _INTEGER,
        "matchConditions": _list_of(
            _mapping({"name": _required(_STRING), "expression": _required(_STRING)})
        ),
    }
)
_CONVERSION_V1 = _mapping(
    {
        "name": _required(_STRING),
        "crdName": _required(_STRING),
        "conversions": _required(
            _list_of(
                _mapping({"fromVersion": _required(_STRING), "toVersion": _required(_STRING)}),
                minlength=1,
            )
        ),
        "group": _STRING,
        "includeSnapshotsFrom": _NON_EMPTY_STRINGS,
    }
)
_SETTINGS_V1 = _mapping(
    {"executionMinInterval": _required(_STRING), "executionBurst": _required(_INTEGER)}
)

V1_SCHEMA: dict[str, Any] = {
    "configVersion": _required({**_STRING, "allowed": ("v1",)}),
    "onStartup": _INTEGER,
    "schedule": _list_of(_SCHEDULE_V1, minlength=1),
    "kubernetes": _list_of(_KUBERNETES_V1, minlength=1),
    "kubernetesValidating": _list_of(_ADMISSION_V1),
    "kubernetesMutating": _list_of(_ADMISSION_V1),
    "kubernetesCustomResourceConversion": _list_of(_CONVERSION_V1),
    "settings": _SETTINGS_V1,
}

V0_SCHEMA: dict[str, Any] = {
    "onStartup": _INTEGER,
    "schedule": _list_of(
        _mapping(
            {"name": _STRING, "crontab": _required(_STRING), "allowFailure": _BOOL},
            allow_unknown=True,
        )
    ),
    "onKubernetesEvent": _list_of(
        _mapping(
            {
                "name": _STRING,
                "event": _list_of({**_STRING, "allowed": tuple(V0_EVENTS)}),
                "kind": _required(_STRING),
                "selector": _LABEL_SELECTOR,
                "objectName": _STRING,
                "namespaceSelector": _mapping(
                    {"matchNames": _STRINGS, "any": _BOOL}, allow_unknown=True
                ),
                "jqFilter": _STRING,
                "allowFailure": _BOOL,
            },
            allow_unknown=True,
        )
    ),
}

# Smallest number of top-level keys (upstream `minProperties`).
MIN_KEYS = {"v0": 1, "v1": 2}


def schema_for(version: str, kind: HookKind) -> dict[str, Any]:
    """The top-level rule set for a `version` document of a `kind` hook."""
    base = V1_SCHEMA if version == "v1" else V0_SCHEMA
    return {**base, **{key: _INTEGER for key in LIFECYCLE_KEYS[kind]}}


def schema_problems(
    document: Mapping[str, Any], version: str, kind: HookKind
) -> list[tuple[str, str]]:
    """Every schema violation of `document` as `(key path, message)`, in document order.

    Numbers must already have passed `integral_floats_as_ints`.
    """
    schema = schema_for(version, kind)
    validator = _Validator(schema, error_handler=_CollectProblems(schema, kind))
    problems: list[tuple[str, str]] = []
    if len(document) < MIN_KEYS[version]:
        problems.append(("", _too_few_keys(version)))
    if not validator.validate(document):
        problems.extend(validator.errors)
    return problems


def _too_few_keys(version: str) -> str:
    if version == "v1":
        return "a v1 config needs at least one binding besides configVersion"
    return "the config is empty: it declares no binding"


# cerberus has no type information (its Validator class is built at import time).
class _Validator(cerberus.Validator):  # type: ignore[misc]
    types_mapping = {
        **cerberus.Validator.types_mapping,
        "integer": cerberus.TypeDefinition("integer", (int,), (bool,)),
    }


def integral_floats_as_ints(value: Any) -> Any:
    """JSON has only numbers: `10.0` is a valid integer upstream, `10.5` is not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: integral_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [integral_floats_as_ints(item) for item in value]
    return value


_YAML_TYPE_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    dict: "mapping",
    list: "list",
    type(None): "null",
}


class _CollectProblems(cerberus_errors.BaseErrorHandler):  # type: ignore[misc]  # cerberus
    """Turns cerberus' error tree into flat `(key path, message)` pairs."""

    def __init__(self, schema: Mapping[str, Any], kind: HookKind) -> None:
        super().__init__()
        self._schema = schema
        self._kind = kind

    def __call__(self, errors: Sequence[cerberus_errors.ValidationError]) -> list[tuple[str, str]]:
        flat: list[tuple[str, str]] = []
        for error in errors:
            if error.is_group_error:
                flat.extend(self(error.child_errors))
            else:
                flat.append((format_path(error.document_path), self._message(error)))
        return flat

    def _message(self, error: cerberus_errors.ValidationError) -> str:
        code, value, constraint = error.code, error.value, error.constraint
        if code == cerberus_errors.REQUIRED_FIELD.code:
            return "required key is missing"
        if code == cerberus_errors.NOT_NULLABLE.code:
            return "must not be null"
        if code == cerberus_errors.UNKNOWN_FIELD.code:
            return self._unknown_key(error.document_path)
        if code == cerberus_errors.BAD_TYPE.code:
            return (
                f"must be of type {constraint}, got {_YAML_TYPE_NAMES.get(type(value), 'value')}"
                f" {value!r}"
            )
        if code == cerberus_errors.UNALLOWED_VALUE.code:
            return f"unallowed value {value!r} (allowed: {', '.join(map(str, constraint))})"
        if code in (cerberus_errors.MIN_LENGTH.code, cerberus_errors.MAX_LENGTH.code):
            bound = "at least" if code == cerberus_errors.MIN_LENGTH.code else "at most"
            unit = "key" if isinstance(value, dict) else "item"
            return f"must have {bound} {constraint} {unit}{'s' if constraint != 1 else ''}"
        return f"breaks the rule {error.rule!r} ({constraint!r})"

    def _unknown_key(self, path: tuple[Any, ...]) -> str:
        key = path[-1]
        if len(path) == 1:
            for other, keys in LIFECYCLE_KEYS.items():
                if other != self._kind and key in keys:
                    return (
                        f"allowed only in {other} hooks, not in a {self._kind} hook "
                        f"(a {self._kind} hook may use {', '.join(LIFECYCLE_KEYS[self._kind])})"
                    )
        allowed = _keys_at(self._schema, path[:-1])
        return f"unknown key (allowed: {', '.join(allowed)})"


def _keys_at(schema: Mapping[str, Any], path: tuple[Any, ...]) -> list[str]:
    """The keys the schema allows in the mapping at `path`."""
    fields: Mapping[str, Any] = schema
    rules: Mapping[str, Any] | None = None
    for step in path:
        if isinstance(step, int):
            rules = rules["schema"] if rules is not None else None
        else:
            rules = fields[step]
        if rules is not None and rules.get("type") == "dict":
            fields = rules.get("schema", {})
    return list(fields)

