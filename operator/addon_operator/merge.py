"""Deep merge of value trees, the one merge rule of the values store.

Maps merge key by key, recursively; anything else (scalars, lists, null) from the overriding tree
replaces what was there — lists are replaced, never concatenated. Discovery uses it to layer static
values; the values engine uses it for every layer above them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A new tree: `base` overridden by `override`; neither input is modified or aliased."""
    result = copy.deepcopy(dict(base))
    _merge_into(result, override)
    return result


def _merge_into(target: dict[str, Any], override: Mapping[str, Any]) -> None:
    for key, value in override.items():
        existing = target.get(key)
        if isinstance(existing, dict) and isinstance(value, Mapping):
            _merge_into(existing, value)
        else:
            target[key] = copy.deepcopy(value)
