"""Label and field selectors as the API server parses them, for list, watch and deletecollection.

Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k`,
`k>n`, `k<n`. Field selectors: `path=v`, `path==v`, `path!=v` where path is any dotted path into
the object (`metadata.name`, `involvedObject.uid`, `spec.nodeName`); a missing field reads as "".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

from .errors import bad_request

Matcher = Callable[[dict[str, Any]], bool]

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_SET_RE = re.compile(rf"\s*(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)\s*")
_EXISTS_RE = re.compile(rf"\s*(?P<neg>!?)\s*(?P<key>{_KEY})\s*")
_CMP_RE = re.compile(rf"\s*(?P<key>{_KEY})\s*(?P<op>==|!=|=|>|<)\s*(?P<value>[-A-Za-z0-9_.]*)\s*")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # = != in notin exists !exists > <
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if not present or not _is_int(value):
            return False
        return int(value) > int(self.values[0]) if self.op == ">" else int(value) < int(self.values[0])


def _is_int(value: str | None) -> TypeGuard[str]:
    return value is not None and re.fullmatch(r"-?\d+", value) is not None


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def parse_label_selector(text: str) -> list[Requirement]:
    requirements = []
    for part in _split_top_level(text):
        if match := _SET_RE.fullmatch(part):
            values = tuple(v.strip() for v in match["values"].split(",") if v.strip())
            requirements.append(Requirement(match["key"], match["op"], values))
        elif match := _CMP_RE.fullmatch(part):
            op = "=" if match["op"] == "==" else match["op"]
            if op in (">", "<") and not _is_int(match["value"]):
                raise bad_request(f'unable to parse requirement: for "gt", "lt" operators, exactly one '
                                  f'integer value is required (labelSelector "{text}")')
            requirements.append(Requirement(match["key"], op, (match["value"],)))
        elif match := _EXISTS_RE.fullmatch(part):
            requirements.append(Requirement(match["key"], "!exists" if match["neg"] else "exists"))
        else:
            raise bad_request(f'unable to parse requirement: invalid label selector "{text}" near "{part.strip()}"')
    return requirements


def _split_unescaped(text: str, separator: str) -> list[str]:
    """Split on `separator` where it is not escaped by a backslash (escapes are kept)."""
    pieces, current, index = [], [], 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text):
            current.append(text[index : index + 2])
            index += 2
            continue
        if text[index] == separator:
            pieces.append("".join(current))
            current = []
        else:
            current.append(text[index])
        index += 1
    pieces.append("".join(current))
    return pieces


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


@dataclass(frozen=True)
class FieldRequirement:
    path: tuple[str, ...]
    negate: bool
    value: str

    def matches(self, obj: dict[str, Any]) -> bool:
        return (field_value(obj, self.path) == self.value) != self.negate


def field_value(obj: Any, path: tuple[str, ...]) -> str:
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return ""
        obj = obj[part]
    if obj is None:
        return ""
    if isinstance(obj, bool):
        return "true" if obj else "false"
    return obj if isinstance(obj, str) else str(obj)


def parse_field_selector(text: str) -> list[FieldRequirement]:
    requirements = []
    for term in filter(None, (t.strip() for t in _split_unescaped(text, ","))):
        match = re.fullmatch(r"((?:[^=!\\]|\\.)+?)\s*(==|!=|=)\s*(.*)", term)
        if not match:
            raise bad_request(f"invalid field selector '{text}': cannot understand '{term}'")
        path, op, value = match.groups()
        requirements.append(FieldRequirement(tuple(path.strip().split(".")), op == "!=", _unescape(value)))
    return requirements


def matcher(label_selector: str | None, field_selector: str | None) -> Matcher:
    """One predicate for both selectors; raises `ApiError` (400) on a malformed selector."""
    labels = parse_label_selector(label_selector) if label_selector else []
    fields = parse_field_selector(field_selector) if field_selector else []
    if not labels and not fields:
        return lambda obj: True

    def match(obj: dict[str, Any]) -> bool:
        obj_labels = obj["metadata"].get("labels") or {}
        for requirement in labels:
            if not requirement.matches(obj_labels):
                return False
        for field_requirement in fields:
            if not field_requirement.matches(obj):
                return False
        return True

    return match

