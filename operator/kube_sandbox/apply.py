"""Server-side apply (`application/apply-patch+yaml`), simplified but with the semantics helm needs.

The applied configuration is merged into the live object (maps recursively, keyed lists by their
merge key, other lists replaced). Per field manager the set of applied fields is recorded in
`metadata.managedFields` (FieldsV1 notation), so a field the same manager applied before and no
longer applies is removed — that is how `helm upgrade` drops a field from a template. Ownership
conflicts between managers are not detected (`force` is accepted and changes nothing).
"""

from __future__ import annotations

import json
from typing import Any

from .patch import merge_key, strategic_merge

FieldSet = dict[str, Any]


def fields_v1(value: Any) -> FieldSet:
    """The FieldsV1 set naming every field present in an applied configuration."""
    if isinstance(value, dict):
        return {f"f:{key}": fields_v1(item) for key, item in value.items()}
    if isinstance(value, list) and (key := merge_key(value)) is not None:
        return {
            "k:" + json.dumps({key: item[key]}, separators=(",", ":")): {".": {}, **fields_v1(item)}
            for item in value
        }
    return {}


def _remove_dropped(obj: Any, old: FieldSet, new: FieldSet) -> Any:
    """A copy of `obj` without the fields in `old` but not in `new`."""
    if isinstance(obj, dict):
        result = dict(obj)
        for token, sub in old.items():
            if not token.startswith("f:"):
                continue
            name = token[2:]
            if token not in new:
                result.pop(name, None)
            elif name in result and sub:
                result[name] = _remove_dropped(result[name], sub, new[token])
        return result
    if isinstance(obj, list):
        kept = []
        for item in obj:
            item_token = _item_token(item)
            if item_token is not None and item_token in old and item_token not in new:
                continue
            if item_token is not None and item_token in old:
                item = _remove_dropped(item, old[item_token], new[item_token])
            kept.append(item)
        return kept
    return obj


def _item_token(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    key = merge_key([item])
    return None if key is None else "k:" + json.dumps({key: item[key]}, separators=(",", ":"))


def apply_config(
    live: dict[str, Any] | None,
    config: dict[str, Any],
    *,
    manager: str,
    api_version: str,
    now: str,
    subresource: str = "",
) -> dict[str, Any]:
    """The object after `manager` applies `config` to `live` (None: the object does not exist)."""
    new_fields = fields_v1({k: v for k, v in config.items() if k not in ("apiVersion", "kind")})
    entries = [dict(e) for e in (live or {}).get("metadata", {}).get("managedFields") or []]
    previous = next(
        (e for e in entries if e.get("manager") == manager and e.get("operation") == "Apply"
         and e.get("subresource", "") == subresource),
        None,
    )
    merged: dict[str, Any] = strategic_merge(live or {}, config)
    if previous is not None:
        merged = _remove_dropped(merged, previous.get("fieldsV1") or {}, new_fields)
        entries.remove(previous)
    entry = {
        "manager": manager,
        "operation": "Apply",
        "apiVersion": api_version,
        "time": now,
        "fieldsType": "FieldsV1",
        "fieldsV1": new_fields,
    }
    if subresource:
        entry["subresource"] = subresource
    merged.setdefault("metadata", {})
    merged["metadata"] = {**merged["metadata"], "managedFields": entries + [entry]}
    return merged
