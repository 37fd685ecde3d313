"""The three OpenAPI schemas kept per values store (global, or one module), as upstream prepares them.

Discovery hands over `openapi/config-values.yaml` and `openapi/values.yaml` as loaded dicts;
`Schemas.load` turns them into:

- `config`: the config-values schema with an implicit `additionalProperties: false` on every
  object level (the root, each `properties` entry and array `items`, recursively) that does not
  set `additionalProperties` itself. It checks user settings (`Module.spec.settings`).
- `values`: the values schema; when it says `x-extend: {schema: config-values.yaml}` it first
  takes over the config schema's `definitions`, `required` (union, config's first),
  `properties`, `patternProperties`, `title`, `description` and every `x-*` key (the values
  schema's own entries win), then gets the implicit `additionalProperties: false`.
- `helm`: a copy of `values` where each object level's `x-required-for-helm` (a string or a
  list) is merged into `required`. Checked just before Helm runs.

Local `$ref`s (`#/definitions/...`) are expanded at load time so defaulting sees through them.
Schemas are OpenAPI 3 flavoured; `validate.py` handles `nullable`. Callers: the composition in
`compose.py`, the `validate`/`render` commands and the runtime.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import jsonschema

Schema = dict[str, Any]

_CONFIG_FILE = "openapi/config-values.yaml"
_VALUES_FILE = "openapi/values.yaml"
_EXTEND_KEYS = ("definitions", "properties", "patternProperties")


class SchemaError(ValueError):
    """An OpenAPI schema file is itself broken (names the owner and the file)."""


@dataclass(frozen=True)
class Schemas:
    """The prepared schemas of one values store; a missing file leaves its schema(s) None."""

    config: Schema | None = None
    values: Schema | None = None
    helm: Schema | None = None

    @classmethod
    def load(
        cls, config_schema: Schema | None, values_schema: Schema | None, *, owner: str
    ) -> Schemas:
        """Prepare the config, values and helm schemas from the two loaded files.

        `owner` names the store in errors, e.g. "module certManager" or "global".
        Raises SchemaError when a file is not a valid schema.
        """
        config = None
        if config_schema is not None:
            raw = _checked(config_schema, owner, _CONFIG_FILE)
            config = _close_objects(_expand_refs(raw, owner, _CONFIG_FILE))
        values = helm = None
        if values_schema is not None:
            raw = _checked(values_schema, owner, _VALUES_FILE)
            if config_schema is not None and _extends_config(raw):
                raw = _extend(raw, copy.deepcopy(config_schema))
            values = _close_objects(_expand_refs(raw, owner, _VALUES_FILE))
            helm = _require_for_helm(copy.deepcopy(values), owner)
        return cls(config=config, values=values, helm=helm)


def _checked(schema: Any, owner: str, file: str) -> Schema:
    """A deep copy of `schema` after checking it against the JSON Schema (draft 4) meta-schema."""
    if not isinstance(schema, dict):
        raise SchemaError(
            f"{owner}: {file}: a schema must be a mapping, got {type(schema).__name__}"
        )
    try:
        jsonschema.Draft4Validator.check_schema(schema)
    except jsonschema.SchemaError as err:
        where = ".".join(str(p) for p in err.absolute_path) or "(root)"
        raise SchemaError(f"{owner}: {file}: invalid schema at {where}: {err.message}") from None
    return copy.deepcopy(schema)


def _extends_config(schema: Schema) -> bool:
    extend = schema.get("x-extend")
    return isinstance(extend, dict) and extend.get("schema") is not None


def _extend(schema: Schema, parent: Schema) -> Schema:
    """Take over the parent (config) schema's entries that the values schema does not set."""
    for key in _EXTEND_KEYS:
        merged = dict(parent.get(key) or {})
        merged.update(schema.get(key) or {})
        if merged:
            schema[key] = merged
    required = list(parent.get("required") or [])
    required += [name for name in schema.get("required") or [] if name not in required]
    if required:
        schema["required"] = required
    for key in ("title", "description"):
        if not schema.get(key) and parent.get(key):
            schema[key] = parent[key]
    for key, value in parent.items():
        if key.startswith("x-") and key not in schema:
            schema[key] = value
    return schema


def _expand_refs(schema: Schema, owner: str, file: str) -> Schema:
    """Replace every local `$ref` by a copy of its target; cycles and remote refs are errors."""

    def resolve(ref: str, seen: tuple[str, ...]) -> Any:
        if not ref.startswith("#/"):
            raise SchemaError(f"{owner}: {file}: only local $ref '#/...' is supported, got {ref!r}")
        if ref in seen:
            raise SchemaError(f"{owner}: {file}: recursive $ref {ref!r} is not supported")
        target: Any = schema
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise SchemaError(f"{owner}: {file}: $ref {ref!r} points to nothing")
            target = target[part]
        return walk(copy.deepcopy(target), seen + (ref,))

    def walk(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                return resolve(node["$ref"], seen)
            return {k: walk(v, seen) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, seen) for v in node]
        return node

    resolved: dict[str, Any] = walk(schema, ())
    return resolved


def _close_objects(schema: Schema) -> Schema:
    """Set `additionalProperties: false` where unset, on this level, its properties and items.

    Levels typed as something other than an object are left as they are (the keyword would not
    apply to them anyway)."""
    if _may_be_object(schema):
        schema.setdefault("additionalProperties", False)
    for prop in (schema.get("properties") or {}).values():
        if isinstance(prop, dict):
            _close_objects(prop)
    items = schema.get("items")
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, dict):
            _close_objects(item)
    return schema


def _may_be_object(schema: Schema) -> bool:
    declared = schema.get("type", "object")
    return "object" in declared if isinstance(declared, list) else declared == "object"


def _require_for_helm(schema: Schema, owner: str, where: str = "(root)") -> Schema:
    """Merge `x-required-for-helm` into `required` on this level and every nested property."""
    extra = schema.get("x-required-for-helm")
    if extra is not None:
        names = [extra] if isinstance(extra, str) else extra
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise SchemaError(
                f"{owner}: {_VALUES_FILE}: x-required-for-helm at {where} must be a string "
                f"or a list of strings, got {extra!r}"
            )
        required = list(schema.get("required") or [])
        schema["required"] = required + [n for n in names if n not in required]
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict):
            _require_for_helm(prop, owner, name if where == "(root)" else f"{where}.{name}")
    return schema
