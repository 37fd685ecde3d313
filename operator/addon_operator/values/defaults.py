"""Schema defaulting: fill keys that are missing from `default`, as upstream's ApplyDefaults does.

Called by `compose.py` (config-schema and values-schema defaults) and by settings validation.
The walk follows only `properties` of objects and the single-schema `items` of arrays:

- on an object, each declared property that is missing and has a non-null `default` gets a deep
  copy of it; then every present property (including ones just defaulted) is walked;
- on an array, every element is walked with the `items` schema;
- a missing object is NOT created just because its properties have defaults: only its own
  `default` (for example `default: {}`) creates it, and then the walk fills its properties.
"""

from __future__ import annotations

import copy
from typing import Any

from addon_operator.values.schemas import Schema


def apply_defaults(obj: Any, schema: Schema | None) -> Any:
    """Return a copy of `obj` with the schema's defaults filled in where keys are missing."""
    result = copy.deepcopy(obj)
    if schema is not None:
        _fill(result, schema)
    return result


def _fill(obj: Any, schema: Schema) -> None:
    if isinstance(obj, dict):
        properties = schema.get("properties") or {}
        for name, prop in properties.items():
            if name not in obj and isinstance(prop, dict) and prop.get("default") is not None:
                obj[name] = copy.deepcopy(prop["default"])
        for name, value in obj.items():
            prop = properties.get(name)
            if isinstance(prop, dict):
                _fill(value, prop)
    elif isinstance(obj, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for element in obj:
                _fill(element, items)
