"""kubectl-style JSONPath for the sandbox's server-side printing (`tables.py`): parse an
expression (`.a.b`, `[0]`, `[*]`, `[1:3]`, `..x`, `[?(@.k=="v")]`, braces and `$` optional)
into steps and evaluate them with missing keys allowed, as apiextensions-apiserver does for a
CRD's `additionalPrinterColumns`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


class JsonPathError(ValueError):
    """A JSONPath expression cannot be parsed; the message names the expression and position."""


@dataclass(frozen=True)
class Step:
    """One JSONPath step: kind is field/wildcard/recursive/index/slice/filter."""

    kind: str
    name: str = ""
    index: int = 0
    start: int | None = None
    stop: int | None = None
    filter_path: tuple["Step", ...] = ()
    operator: str = ""
    literal: Any = None


_FILTER = re.compile(
    r"""^\s*@(?P<path>[^=!<>\s]*)\s*(?:(?P<op>==|!=|<=|>=|<|>)\s*(?P<lit>'[^']*'|"[^"]*"|[^\s]+))?\s*$"""
)
_NAME_END = ".["


def parse_jsonpath(expression: str) -> tuple[Step, ...]:
    """Parse a kubectl-style JSONPath (`.a.b`, `[0]`, `[*]`, `..x`, `[?(@.k=="v")]`), braces optional."""
    text = expression.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if text.startswith("$"):
        text = text[1:]
    if text and text[0] not in ".[":
        text = "." + text
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        if text.startswith("..", pos):
            name, pos = _read_name(text, pos + 2, expression)
            steps.append(Step("recursive", name=name))
        elif text[pos] == ".":
            if text.startswith(".*", pos):
                steps.append(Step("wildcard"))
                pos += 2
                continue
            name, pos = _read_name(text, pos + 1, expression)
            steps.append(Step("field", name=name))
        elif text[pos] == "[":
            end = _closing_bracket(text, pos, expression)
            steps.append(_parse_bracket(text[pos + 1 : end], expression))
            pos = end + 1
        else:
            raise JsonPathError(f"JSONPath {expression!r}: unexpected {text[pos]!r} at {pos}")
    return tuple(steps)


def _read_name(text: str, pos: int, expression: str) -> tuple[str, int]:
    name: list[str] = []
    while pos < len(text) and text[pos] not in _NAME_END:
        if text[pos] == "\\" and pos + 1 < len(text):
            pos += 1
        name.append(text[pos])
        pos += 1
    if not name:
        raise JsonPathError(f"JSONPath {expression!r}: empty field name at {pos}")
    return "".join(name), pos


def _closing_bracket(text: str, start: int, expression: str) -> int:
    depth, quote = 0, ""
    for pos in range(start, len(text)):
        char = text[pos]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return pos
    raise JsonPathError(f"JSONPath {expression!r}: unclosed '[' at {start}")


def _parse_bracket(inner: str, expression: str) -> Step:
    body = inner.strip()
    if body == "*":
        return Step("wildcard")
    if body[:1] in "'\"" and body[-1:] == body[:1] and len(body) >= 2:
        return Step("field", name=body[1:-1])
    if body.startswith("?(") and body.endswith(")"):
        match = _FILTER.match(body[2:-1])
        if not match:
            raise JsonPathError(f"JSONPath {expression!r}: unsupported filter {body!r}")
        path = parse_jsonpath(match["path"]) if match["path"] else ()
        literal = _literal(match["lit"], expression) if match["op"] else None
        return Step("filter", filter_path=path, operator=match["op"] or "", literal=literal)
    try:
        if ":" in body:
            start, _, stop = body.partition(":")
            stop = stop.split(":")[0]
            return Step(
                "slice",
                start=int(start) if start.strip() else None,
                stop=int(stop) if stop.strip() else None,
            )
        return Step("index", index=int(body))
    except ValueError:
        raise JsonPathError(f"JSONPath {expression!r}: invalid array index {body!r}") from None


def _literal(token: str, expression: str) -> Any:
    if token[:1] in "'\"":
        return token[1:-1]
    if token in ("true", "false"):
        return token == "true"
    try:
        return json.loads(token)
    except ValueError:
        raise JsonPathError(f"JSONPath {expression!r}: invalid filter literal {token!r}") from None


def find_results(steps: tuple[Step, ...], data: Any) -> list[Any]:
    """Evaluate parsed steps against `data` with missing keys allowed; returns all matches."""
    current = [data]
    for step in steps:
        current = [found for value in current for found in _apply(step, value)]
    return current


def _apply(step: Step, value: Any) -> list[Any]:
    if step.kind == "field":
        return [value[step.name]] if isinstance(value, dict) and step.name in value else []
    if step.kind == "wildcard":
        if isinstance(value, dict):
            return list(value.values())
        return list(value) if isinstance(value, list) else []
    if step.kind == "recursive":
        return _descendants(value, step.name)
    if not isinstance(value, list):
        return []
    if step.kind == "index":
        index = step.index + len(value) if step.index < 0 else step.index
        return [value[index]] if 0 <= index < len(value) else []
    if step.kind == "slice":
        return value[step.start : step.stop]
    return [item for item in value if _filter_passes(step, item)]


def _descendants(value: Any, name: str) -> list[Any]:
    found: list[Any] = []
    if isinstance(value, dict):
        if name in value:
            found.append(value[name])
        children = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return found
    for child in children:
        found.extend(_descendants(child, name))
    return found


def _filter_passes(step: Step, item: Any) -> bool:
    lefts = find_results(step.filter_path, item)
    if not step.operator:
        return any(left not in (None, False, "", 0) for left in lefts)
    return any(_compare(left, step.operator, step.literal) for left in lefts)


def _compare(left: Any, operator: str, right: Any) -> bool:
    def number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    comparable = (number(left) and number(right)) or (type(left) is type(right))
    if operator in ("==", "!="):
        return (comparable and left == right) == (operator == "==")
    if not comparable or not (number(left) or isinstance(left, str)):
        return False
    results = {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}
    return bool(results[operator])
