"""Validation of a values document against one prepared schema, reported as `Problem`s.

Used by `compose.py` (settings, values and helm checks) and through it by the commands and the
runtime. Semantics are JSON Schema draft 4 (what OpenAPI 3.0 and upstream's go-openapi validator
use) with two OpenAPI touches: `nullable: true` (or `x-nullable`) admits null, and a whole number
written as 1.0 counts as an integer. Each problem names the owner, the JSON path (dots for keys,
`[i]` for list items, `["a.b"]` for keys that are not plain words) and the rule broken; problems
come sorted by path, then message, so output is stable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema import Draft4Validator, Draft7Validator, ValidationError
from jsonschema.validators import extend

from addon_operator.values.schemas import Schema

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_MAX_MESSAGE = 200
_MAX_VALUE = 60


@dataclass(frozen=True, order=True)
class Problem:
    """One validation failure: who (`module certManager`), where (`settings.replicas`), what."""

    owner: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.owner}: {self.path}: {self.message}"


def validate(doc: Any, schema: Schema | None, *, owner: str, root: str) -> list[Problem]:
    """Check `doc` against `schema` (None: nothing to check); `root` prefixes every path."""
    if schema is None:
        return []
    validator = _OpenAPIValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    problems = {
        Problem(owner, json_path(root, err.absolute_path), _message(err))
        for err in validator.iter_errors(doc)
    }
    return sorted(problems, key=lambda p: (p.path, p.message))


def json_path(root: str, parts: Any) -> str:
    """Render path parts as `root.key[0]["odd.key"]`."""
    text = root
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text or "(root)"


def short(value: Any) -> str:
    """A value as it appears in messages, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "..."


def _nullable(schema: Schema) -> bool:
    return schema.get("nullable") is True or schema.get("x-nullable") is True


def _type(validator: Any, types: Any, instance: Any, schema: Schema) -> Iterator[ValidationError]:
    if instance is None and _nullable(schema):
        return
    names = [types] if isinstance(types, str) else list(types)
    if not any(validator.is_type(instance, name) for name in names):
        expected = ", ".join(repr(name) for name in names)
        if _nullable(schema):
            expected += " or null"
        yield ValidationError(f"{short(instance)} is not of type {expected}")


def _enum(validator: Any, allowed: Any, instance: Any, schema: Schema) -> Iterator[ValidationError]:
    if instance is None and _nullable(schema):
        return
    for error in Draft4Validator.VALIDATORS["enum"](validator, allowed, instance, schema):
        values = ", ".join(short(value) for value in allowed)
        yield ValidationError(f"{short(instance)} is not one of the allowed values {values} (enum)")


def _required(validator: Any, names: Any, instance: Any, schema: Schema) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for name in names:
        if name not in instance:
            yield ValidationError(f"required field {name!r} is missing", path=[name])


def _additional(
    validator: Any, additional: Any, instance: Any, schema: Schema
) -> Iterator[ValidationError]:
    if additional is not False or not validator.is_type(instance, "object"):
        yield from Draft4Validator.VALIDATORS["additionalProperties"](
            validator, additional, instance, schema
        )
        return
    known = schema.get("properties") or {}
    patterns = list(schema.get("patternProperties") or {})
    for name in instance:
        if name not in known and not any(re.search(p, name) for p in patterns):
            yield ValidationError(
                f"unknown field {name!r} (additionalProperties: false)", path=[name]
            )


_OpenAPIValidator = extend(
    Draft4Validator,
    validators={
        "type": _type,
        "enum": _enum,
        "required": _required,
        "additionalProperties": _additional,
    },
    type_checker=Draft7Validator.TYPE_CHECKER,
)


def _message(err: jsonschema.ValidationError) -> str:
    if err.validator in ("type", "enum", "required", "additionalProperties"):
        return err.message
    text = err.message
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 3] + "..."
    return f"{text} ({err.validator})"
