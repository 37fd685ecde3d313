"""The JSON stream reader shared by the hook output files."""

from __future__ import annotations

import json

import pytest

from addon_operator.jsonstream import Document, documents


def test_documents_one_after_another_with_their_positions() -> None:
    text = '{"a":1}{"b":2}\n\n  [1, 2]\n"x"'
    assert list(documents(text)) == [
        Document({"a": 1}, 1, 1), Document({"b": 2}, 1, 8), Document([1, 2], 3, 3),
        Document("x", 4, 1)]


def test_blank_text_has_no_documents() -> None:
    assert list(documents(" \n\t\n")) == []


def test_a_malformed_document_stops_the_stream_with_its_position() -> None:
    stream = documents('{"ok": true}\n{"broken": }')
    assert next(stream).value == {"ok": True}
    with pytest.raises(json.JSONDecodeError) as err:
        next(stream)
    assert (err.value.lineno, err.value.colno) == (2, 12)
