"""checksum and text_checksum: stable over key order, sensitive to content."""

from __future__ import annotations

import hashlib

from addon_operator.values import checksum, text_checksum


def test_checksum_ignores_key_order() -> None:
    a = {"b": {"y": 1, "x": [1, 2]}, "a": "ü"}
    b = {"a": "ü", "b": {"x": [1, 2], "y": 1}}
    assert checksum(a) == checksum(b)
    assert len(checksum(a)) == 64


def test_checksum_changes_with_content_and_list_order() -> None:
    base = checksum({"x": [1, 2]})
    assert checksum({"x": [2, 1]}) != base
    assert checksum({"x": [1, 2], "y": None}) != base
    assert checksum({"x": ["1", 2]}) != base


def test_text_checksum_is_md5_of_the_text() -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\n"
    assert text_checksum(manifest) == hashlib.md5(manifest.encode()).hexdigest()
    assert text_checksum("") == "d41d8cd98f00b204e9800998ecf8427e"
