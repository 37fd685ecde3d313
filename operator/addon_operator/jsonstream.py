"""Reading a JSON stream: JSON documents one after another with any whitespace between them.

It is the format of every file hooks write (values patches, metrics, Kubernetes operations):
what a hook gets by appending `jq -c` output with `>>`. Used by `values.patches`,
`metrics.hook_stream` and `kubepatch.parse`, which each turn the documents into their own
operations and wrap `json.JSONDecodeError` into their own error type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class Document:
    """One document of the stream and where it starts (1-based line and column)."""

    value: Any
    line: int
    column: int


def documents(text: str) -> Iterator[Document]:
    """The documents of `text` in order; blank text has none. Raises `json.JSONDecodeError`
    (with its `lineno`/`colno`) at the first malformed document."""
    position = _skip_space(text, 0)
    while position < len(text):
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        value, position = _DECODER.raw_decode(text, position)
        yield Document(value, line, column)
        position = _skip_space(text, position)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position
