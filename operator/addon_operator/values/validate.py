"""Validation of a values document against one prepared schema, reported as `Problem`s.

Used by `compose.py` (settings, values and helm checks) and through it by the commands and the
runtime. Semantics are JSON Schema draft 4 (what OpenAPI 3.0 and upstream's go-openapi validator
use) with two OpenAPI touches: `nullable: true` (or `x-nullable`) admits null, and a whole number
written as 1.0 counts as an integer. Each problem names the owner, the JSON path (dots for keys,
`[i]` for list items, `["a.b"]` for keys that are not plain words) and the rule broken; problems
come sorted by path, then message, so output is stable.

A message never contains the value that was checked: settings hold passwords and tokens, and
problems end up in statuses, Events and logs. Messages are built from the schema side of an
error only (`validator`, `validator_value`, the schema) and from field names, never from
jsonschema's own `message`, which quotes the instance: `must be of type string`,
`must be >= 1`, `must match pattern '^[a-z]+$'`; field names are not values, they are named:
`settings.email: missing required field 'email'`, `settings.x: unknown field 'x'`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft4Validator, Draft7Validator, ValidationError
from jsonschema.validators import extend

from addon_operator.values.schemas import Schema

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_MAX_MESSAGE = 200
_HELM_REQUIRED = "x-required-for-helm"


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


def _message(err: ValidationError) -> str:
    """The rule `err` broke, from the schema side only: never the checked value."""
    if isinstance(err, _Rule):
        text = err.message
    else:
        build = _MESSAGES.get(str(err.validator))
        text = build(err.validator_value, _schema_of(err), err) if build else \
            f"does not satisfy the schema rule {str(err.validator)!r}"
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


class _Rule(ValidationError):
    """An error raised by this module's own validators: its message names no value."""


def _schema_of(err: ValidationError) -> Schema:
    return err.schema if isinstance(err.schema, dict) else {}


def _nullable(schema: Schema) -> bool:
    return schema.get("nullable") is True or schema.get("x-nullable") is True


def _literal(value: Any) -> str:
    """A value of the schema (an enum member, a bound) as it reads in messages."""
    return repr(value) if isinstance(value, str) else json.dumps(value, default=str)


def _number(value: Any) -> str:
    return str(value) if isinstance(value, (int, float)) else _literal(value)


def _plural(count: Any, word: str) -> str:
    return f"{_number(count)} {word}{'' if count == 1 else 's'}"


def _types(types: Any, schema: Schema) -> str:
    names = [types] if isinstance(types, str) else [str(t) for t in types]
    if _nullable(schema):
        names.append("null")
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _minimum(bound: Any, schema: Schema, err: ValidationError) -> str:
    return f"must be {'>' if schema.get('exclusiveMinimum') is True else '>='} {_number(bound)}"


def _maximum(bound: Any, schema: Schema, err: ValidationError) -> str:
    return f"must be {'<' if schema.get('exclusiveMaximum') is True else '<='} {_number(bound)}"


def _one_of(branches: Any, schema: Schema, err: ValidationError) -> str:
    # jsonschema gives the branches' errors as context when none matched, none when several did.
    which = "none does" if err.context else "more than one does"
    return f"must match exactly one of the {_plural(len(branches), 'oneOf schema')} ({which})"


def _additional_items(allowed: Any, schema: Schema, err: ValidationError) -> str:
    items = schema.get("items")
    count = len(items) if isinstance(items, list) else 0
    return f"must have at most {_plural(count, 'item')} (additionalItems: false)"


_MESSAGES: dict[str, Callable[[Any, Schema, ValidationError], str]] = {
    "type": lambda types, schema, err: f"must be of type {_types(types, schema)}",
    "enum": lambda allowed, schema, err: "must be one of the allowed values "
    + ", ".join(_literal(value) for value in allowed) + (" or null" if _nullable(schema) else ""),
    "pattern": lambda pattern, schema, err: f"must match pattern '{pattern}'",
    "format": lambda name, schema, err: f"must be a valid {name} (format)",
    "minLength": lambda n, schema, err: f"must be at least {_plural(n, 'character')} long",
    "maxLength": lambda n, schema, err: f"must be at most {_plural(n, 'character')} long",
    "minimum": _minimum,
    "maximum": _maximum,
    "multipleOf": lambda n, schema, err: f"must be a multiple of {_number(n)}",
    "minItems": lambda n, schema, err: f"must have at least {_plural(n, 'item')}",
    "maxItems": lambda n, schema, err: f"must have at most {_plural(n, 'item')}",
    "uniqueItems": lambda flag, schema, err: "must not contain duplicate items (uniqueItems)",
    "additionalItems": _additional_items,
    "minProperties": lambda n, schema, err: f"must have at least {_plural(n, 'field')}",
    "maxProperties": lambda n, schema, err: f"must have at most {_plural(n, 'field')}",
    "oneOf": _one_of,
    "anyOf": lambda branches, schema, err:
        f"must match at least one of the {_plural(len(branches), 'anyOf schema')}",
    "not": lambda other, schema, err: "must not match the schema given in 'not'",
}


def _type(validator: Any, types: Any, instance: Any, schema: Schema) -> Iterator[ValidationError]:
    if instance is None and _nullable(schema):
        return
    names = [types] if isinstance(types, str) else list(types)
    if not any(validator.is_type(instance, name) for name in names):
        yield ValidationError("wrong type")   # worded by `_message`, as jsonschema's own are


def _enum(validator: Any, allowed: Any, instance: Any, schema: Schema) -> Iterator[ValidationError]:
    if instance is None and _nullable(schema):
        return
    yield from Draft4Validator.VALIDATORS["enum"](validator, allowed, instance, schema)


def _required(validator: Any, names: Any, instance: Any, schema: Schema) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    helm = schema.get(_HELM_REQUIRED)
    for_helm = [helm] if isinstance(helm, str) else helm if isinstance(helm, list) else []
    for name in names:
        if name not in instance:
            rule = f" ({_HELM_REQUIRED})" if name in for_helm else ""
            yield _Rule(f"missing required field {name!r}{rule}", path=[name])


def _dependencies(
    validator: Any, dependencies: Any, instance: Any, schema: Schema
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for name, dependency in dependencies.items():
        if name not in instance:
            continue
        if isinstance(dependency, dict):
            yield from validator.descend(instance, dependency, schema_path=name)
            continue
        for needed in [dependency] if isinstance(dependency, str) else dependency:
            if needed not in instance:
                yield _Rule(f"requires field {needed!r} (dependencies)", path=[name])


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
            yield _Rule(f"unknown field {name!r}", path=[name])


# `extend` has no annotations in the stubs: called through a typed name.
_extend: Callable[..., Any] = extend
_OpenAPIValidator = _extend(
    Draft4Validator,
    validators={
        "type": _type,
        "enum": _enum,
        "required": _required,
        "dependencies": _dependencies,
        "additionalProperties": _additional,
    },
    type_checker=Draft7Validator.TYPE_CHECKER,
)
