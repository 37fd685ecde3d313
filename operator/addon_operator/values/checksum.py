"""Stable checksums: of values (to notice a change) and of rendered manifests (Helm's skip check).

`checksum` is used by the runtime to tell whether a module's or the global values changed (for
example around `afterAll` hooks); `text_checksum` is the MD5 of rendered manifest text that
upstream stores as the release label `moduleChecksum`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def checksum(obj: Any) -> str:
    """SHA-256 hex of canonical JSON (sorted keys, no spaces): independent of key order."""
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def text_checksum(text: str) -> str:
    """MD5 hex of the text, as upstream checksums rendered manifests."""
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()
