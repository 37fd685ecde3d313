"""jqFilter of `kubernetes` bindings: libjq through the `jq` package, with gojq's output rules.

The monitors call `ObjectFilter.apply(obj)` for every watched object. Upstream filters with
gojq and turns the outputs into one value: no output gives null, one output gives that value,
several outputs give an array of them. The checksum that drives change suppression is the MD5 of
the compact JSON of that value (with a filter) or of the whole object (without one), so an event
whose filter result did not change is not sent to the hook.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import jq


class FilterError(ValueError):
    """The jq filter failed on an object (the message names the filter and the object)."""


@dataclass(frozen=True)
class Filtered:
    """A filter outcome: the value hooks see as `filterResult`, and the change checksum."""

    result: Any
    checksum: str


def checksum(value: Any) -> str:
    """MD5 of the compact JSON of `value` with sorted keys (stable across key order)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def gojq_value(outputs: list[Any]) -> Any:
    """0 outputs -> None, 1 -> the value, several -> the list of them."""
    if not outputs:
        return None
    return outputs[0] if len(outputs) == 1 else outputs


class ObjectFilter:
    """One binding's filter; `expression` None means no jqFilter (the checksum covers the whole
    object and there is no `filterResult`)."""

    def __init__(self, expression: str | None) -> None:
        self.expression = expression
        self._program = jq.compile(expression) if expression else None

    @property
    def active(self) -> bool:
        return self._program is not None

    def apply(self, obj: dict[str, Any]) -> Filtered:
        if self._program is None:
            return Filtered(None, checksum(obj))
        try:
            value = gojq_value(self._program.input_value(obj).all())
        except ValueError as exc:
            metadata = obj.get("metadata") or {}
            where = "/".join(p for p in (metadata.get("namespace"), metadata.get("name")) if p)
            raise FilterError(f"jqFilter {self.expression!r} failed on {obj.get('kind', 'object')} "
                              f"{where or '?'}: {exc}") from exc
        return Filtered(value, checksum(value))
