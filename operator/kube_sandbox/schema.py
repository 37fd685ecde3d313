"""Structural-schema admission of custom objects, as the apiextensions API server does it.

The sandbox server calls `admit(obj, schema)` on every create and update of a custom object with
the CRD version's `openAPIV3Schema`: unknown fields are pruned, `default`s applied, then the object
validated. Messages follow the API server's `field.Error` style so tests and users see what a real
cluster would print, e.g.
`spec.enabled: Invalid value: "string": spec.enabled in body must be of type boolean: "string"`,
`spec.x: Required value`, `spec.mode: Unsupported value: "x": supported values: "a", "b"`.
With `fieldValidation=Strict` the server reports the paths `prune` returns instead of dropping them.
CEL rules (`x-kubernetes-validations`) are not evaluated.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from kube_sandbox.tables import go_text, parse_timestamp

ROOT_FIELDS = ("apiVersion", "kind", "metadata")
OBJECT_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields",
})
PRESERVE = "x-kubernetes-preserve-unknown-fields"
EMBEDDED = "x-kubernetes-embedded-resource"
INT_OR_STRING = "x-kubernetes-int-or-string"


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# ----------------------------------------------------------------------------- pruning

def prune(obj: Any, schema: dict[str, Any]) -> tuple[Any, list[str]]:
    """A copy of `obj` without fields the schema does not declare, and the pruned paths.

    Top-level (and embedded-resource) `apiVersion`/`kind`/`metadata` are always kept; `metadata`
    keeps only ObjectMeta fields. Non-nullable nulls without a default are dropped as well.
    """
    removed: list[str] = []
    return _prune(obj, schema, "", removed, is_root=True), removed


def _prune(value: Any, schema: dict[str, Any], path: str, removed: list[str], is_root: bool = False) -> Any:
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            return [_prune(item, items, f"{path}[{index}]", removed) for index, item in enumerate(value)]
        return copy.deepcopy(value)
    if not isinstance(value, dict) or schema.get(INT_OR_STRING):
        return copy.deepcopy(value)
    properties: dict[str, Any] = schema.get("properties") or {}
    additional = schema.get("additionalProperties")
    keeps_resource_fields = is_root or schema.get(EMBEDDED)
    out: dict[str, Any] = {}
    for key, child in value.items():
        child_path = _child(path, key)
        if keeps_resource_fields and key == "metadata" and isinstance(child, dict):
            out[key] = _prune_metadata(child, child_path, removed)
        elif keeps_resource_fields and key in ROOT_FIELDS:
            out[key] = copy.deepcopy(child)
        elif key in properties:
            if child is None and not properties[key].get("nullable") and "default" not in properties[key]:
                continue
            out[key] = _prune(child, properties[key], child_path, removed)
        elif isinstance(additional, dict):
            out[key] = _prune(child, additional, child_path, removed)
        elif additional is True or schema.get(PRESERVE):
            out[key] = copy.deepcopy(child)
        else:
            removed.append(child_path)
    return out


def _prune_metadata(metadata: dict[str, Any], path: str, removed: list[str]) -> dict[str, Any]:
    out = {}
    for key, value in metadata.items():
        if key in OBJECT_META_FIELDS:
            out[key] = copy.deepcopy(value)
        else:
            removed.append(_child(path, key))
    return out


# ----------------------------------------------------------------------------- defaulting

def apply_defaults(value: Any, schema: dict[str, Any]) -> None:
    """Set `default`s in place for missing (or non-nullable null) fields, recursing into them."""
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for item in value:
                apply_defaults(item, items)
        return
    if not isinstance(value, dict):
        return
    properties: dict[str, Any] = schema.get("properties") or {}
    for key, prop in properties.items():
        if "default" not in prop or key == "metadata":
            continue
        if key not in value or (value[key] is None and not prop.get("nullable")):
            value[key] = copy.deepcopy(prop["default"])
    additional = schema.get("additionalProperties")
    for key, child in value.items():
        if key in properties and key != "metadata":
            apply_defaults(child, properties[key])
        elif isinstance(additional, dict):
            apply_defaults(child, additional)


# ----------------------------------------------------------------------------- validation

def json_type(value: Any) -> str:
    """The OpenAPI type name of a JSON value (`integer` for whole numbers, as Go decodes them)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _matches_type(value: Any, expected: str) -> bool:
    actual = json_type(value)
    if expected == "number":
        return actual in ("integer", "number")
    if expected == "integer" and actual == "number":
        return float(value).is_integer()
    return actual == expected


def show(value: Any) -> str:
    """A bad value as `field.Error` prints it: strings quoted, scalars bare, the rest as JSON."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return go_text(value)


def _invalid(path: str, value: Any, detail: str) -> str:
    return f"{path}: Invalid value: {show(value)}: {detail}"


def _type_error(path: str, value: Any, expected: str) -> str:
    actual = json_type(value)
    return _invalid(path, actual, f"{path} in body must be of type {expected}: {show(actual)}")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def validate(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Validation messages for `value` against `schema` (empty when valid)."""
    errors: list[str] = []
    _validate(value, schema, path, errors)
    return errors


def _validate(value: Any, schema: dict[str, Any], path: str, errors: list[str]) -> None:
    if value is None and schema.get("nullable"):
        return
    if schema.get(INT_OR_STRING):
        if json_type(value) not in ("integer", "string"):
            errors.append(_type_error(path, value, "integer,string"))
            return
    elif "type" in schema and not _matches_type(value, schema["type"]):
        errors.append(_type_error(path, value, schema["type"]))
        return
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(show(option) if isinstance(option, str) else json.dumps(option)
                            for option in schema["enum"])
        errors.append(f"{path}: Unsupported value: {show(value)}: supported values: {allowed}")
    if isinstance(value, str):
        _validate_string(value, schema, path, errors)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _validate_number(value, schema, path, errors)
    elif isinstance(value, list):
        _validate_array(value, schema, path, errors)
    elif isinstance(value, dict):
        _validate_object(value, schema, path, errors)
    _validate_combinators(value, schema, path, errors)


def _validate_string(value: str, schema: dict[str, Any], path: str, errors: list[str]) -> None:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(f"{path}: Too long: may not be more than {_plural(schema['maxLength'], 'byte')}")
    if "minLength" in schema and len(value) < schema["minLength"]:
        errors.append(_invalid(path, value, f"{path} in body should be at least "
                                            f"{schema['minLength']} chars long"))
    if "pattern" in schema:
        try:
            matched = re.search(schema["pattern"], value) is not None
        except re.error:
            matched = True  # a pattern Python cannot compile is not the object's fault
        if not matched:
            errors.append(_invalid(path, value, f"{path} in body should match '{schema['pattern']}'"))
    if schema.get("format") == "date-time" and parse_timestamp(value) is None:
        errors.append(_invalid(path, value, f"{path} in body must be of type date-time: {show(value)}"))


def _validate_number(value: float, schema: dict[str, Any], path: str, errors: list[str]) -> None:
    if "minimum" in schema:
        minimum = schema["minimum"]
        if schema.get("exclusiveMinimum") and value <= minimum:
            errors.append(_invalid(path, value, f"{path} in body should be greater than "
                                                f"{go_text(float(minimum))}"))
        elif value < minimum:
            errors.append(_invalid(path, value, f"{path} in body should be greater than or equal "
                                                f"to {go_text(float(minimum))}"))
    if "maximum" in schema:
        maximum = schema["maximum"]
        if schema.get("exclusiveMaximum") and value >= maximum:
            errors.append(_invalid(path, value, f"{path} in body should be less than "
                                                f"{go_text(float(maximum))}"))
        elif value > maximum:
            errors.append(_invalid(path, value, f"{path} in body should be less than or equal to "
                                                f"{go_text(float(maximum))}"))
    factor = schema.get("multipleOf")
    if factor and (value / factor) != int(value / factor):
        errors.append(_invalid(path, value, f"{path} in body should be a multiple of "
                                            f"{go_text(float(factor))}"))


def _validate_array(value: list[Any], schema: dict[str, Any], path: str, errors: list[str]) -> None:
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(f"{path}: Too many: {len(value)}: must have at most "
                      f"{_plural(schema['maxItems'], 'item')}")
    if "minItems" in schema and len(value) < schema["minItems"]:
        errors.append(_invalid(path, value, f"{path} in body should have at least "
                                            f"{schema['minItems']} items"))
    if schema.get("uniqueItems"):
        seen = [json.dumps(item, sort_keys=True) for item in value]
        if len(set(seen)) != len(seen):
            errors.append(_invalid(path, value, f"{path} in body shouldn't contain duplicates"))
    items = schema.get("items")
    if isinstance(items, dict):
        for index, item in enumerate(value):
            _validate(item, items, f"{path}[{index}]", errors)


def _validate_object(value: dict[str, Any], schema: dict[str, Any], path: str, errors: list[str]) -> None:
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        errors.append(f"{path}: Too many: {len(value)}: must have at most "
                      f"{_plural(schema['maxProperties'], 'item')}")
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        errors.append(_invalid(path, value, f"{path} in body should have at least "
                                            f"{schema['minProperties']} properties"))
    for key in schema.get("required") or []:
        if key not in value:
            errors.append(f"{_child(path, key)}: Required value")
    properties: dict[str, Any] = schema.get("properties") or {}
    additional = schema.get("additionalProperties")
    for key, child in value.items():
        if key in properties:
            _validate(child, properties[key], _child(path, key), errors)
        elif isinstance(additional, dict):
            _validate(child, additional, _child(path, key), errors)


def _validate_combinators(value: Any, schema: dict[str, Any], path: str, errors: list[str]) -> None:
    for sub in schema.get("allOf") or []:
        _validate(value, sub, path, errors)
    options = schema.get("anyOf")
    if options and all(validate(value, option, path) for option in options):
        errors.append(_invalid(path, value, f"{path} in body must validate at least one schema (anyOf)"))
    options = schema.get("oneOf")
    if options and sum(1 for option in options if not validate(value, option, path)) != 1:
        errors.append(_invalid(path, value, f"{path} in body must validate one and only one schema (oneOf)"))
    if isinstance(schema.get("not"), dict) and not validate(value, schema["not"], path):
        errors.append(_invalid(path, value, f"{path} in body must not validate the schema (not)"))


# ----------------------------------------------------------------------------- admission

def admit(obj: dict[str, Any], schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Prune, default and validate a custom object; returns (admitted copy, error messages).

    Only `metadata.name`/`generateName` constraints of the schema's `metadata` apply, as in the
    API server; the rest of `metadata` is left to the server core.
    """
    admitted, _ = prune(obj, schema)
    apply_defaults(admitted, schema)
    body_schema = dict(schema)
    properties = dict(schema.get("properties") or {})
    meta_schema = properties.pop("metadata", None)
    body_schema["properties"] = properties
    errors = validate(admitted, body_schema)
    if isinstance(meta_schema, dict) and isinstance(admitted.get("metadata"), dict):
        name_rules = {key: rule for key, rule in (meta_schema.get("properties") or {}).items()
                      if key in ("name", "generateName")}
        for key, rule in name_rules.items():
            if key in admitted["metadata"]:
                errors.extend(validate(admitted["metadata"][key], rule, f"metadata.{key}"))
    return admitted, errors
