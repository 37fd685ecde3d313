"""The PATCH body formats: JSON merge patch, JSON patch and strategic merge patch.

Pure functions called by `Api.patch` (api.py); they never mutate their inputs. Strategic merge
follows merge-patch semantics plus what kubectl's client-side apply relies on: lists of objects
merge by their well-known key (`name`, `containerPort`, `port`, `mountPath`, `type`), and the
`$patch`, `$retainKeys`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…` directives.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .errors import ApiError, bad_request

_MERGE_KEYS = ("name", "containerPort", "port", "mountPath", "devicePath", "ip", "type", "topologyKey")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, `null` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- RFC 6902 -------------------------------------------------------------------------------

def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _patch_error(f'invalid JSON pointer "{path}": must start with "/"')
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _patch_error(message: str) -> ApiError:
    return ApiError(422, "Invalid", message)


def _index(container: list[Any], token: str, path: str, *, for_add: bool) -> int:
    if token == "-" and for_add:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise _patch_error(f'invalid array index "{token}" in path "{path}"')
    index = int(token)
    limit = len(container) if for_add else len(container) - 1
    if index > limit:
        raise _patch_error(f'array index {index} out of bounds in path "{path}"')
    return index


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    node = doc
    for token in parts[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, path, for_add=False)]
        else:
            raise _patch_error(f'path "{path}" does not exist: missing "{token}"')
    return node


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    token = parts[-1]
    if isinstance(parent, dict):
        if token not in parent:
            raise _patch_error(f'path "{path}" does not exist')
        return parent[token]
    if isinstance(parent, list):
        return parent[_index(parent, token, path, for_add=False)]
    raise _patch_error(f'path "{path}" does not exist')


def _add(doc: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    if isinstance(parent, dict):
        parent[parts[-1]] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, parts[-1], path, for_add=True), value)
    else:
        raise _patch_error(f'cannot add at "{path}": parent is not an object or array')
    return doc


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        raise _patch_error("cannot remove the whole document")
    parent = _parent(doc, parts, path)
    if isinstance(parent, dict):
        if parts[-1] not in parent:
            raise _patch_error(f'cannot remove "{path}": it does not exist')
        del parent[parts[-1]]
    elif isinstance(parent, list):
        del parent[_index(parent, parts[-1], path, for_add=False)]
    else:
        raise _patch_error(f'cannot remove "{path}": it does not exist')
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 with every op (add, remove, replace, move, copy, test)."""
    if not isinstance(operations, list):
        raise bad_request("a JSON patch must be a list of operations")
    doc = copy.deepcopy(target)
    for number, operation in enumerate(operations):
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise bad_request(f"JSON patch operation {number} needs 'op' and 'path': {json.dumps(operation)}")
        op, path = operation["op"], operation["path"]
        if op in ("add", "replace", "test") and "value" not in operation:
            raise bad_request(f"JSON patch operation {number} ({op} {path}) needs a 'value'")
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation["value"]))
        elif op == "remove":
            doc = _remove(doc, path)
        elif op == "replace":
            _get(doc, path)  # the target must exist
            value = copy.deepcopy(operation["value"])
            doc = _add(_remove(doc, path), path, value) if _pointer(path) else value
        elif op in ("move", "copy"):
            source = operation.get("from")
            if source is None:
                raise bad_request(f"JSON patch operation {number} ({op} {path}) needs 'from'")
            value = copy.deepcopy(_get(doc, source))
            if op == "move":
                doc = _remove(doc, source)
            doc = _add(doc, path, value)
        elif op == "test":
            if _get(doc, path) != operation["value"]:
                raise _patch_error(f'testing value {path} failed: expected {json.dumps(operation["value"])}')
        else:
            raise bad_request(f'JSON patch operation {number} has unknown op "{op}"')
    return doc


# --- strategic merge --------------------------------------------------------------------------

def merge_key(items: list[Any]) -> str | None:
    """The key objects of a list merge by, when every item carries the same well-known key."""
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in _MERGE_KEYS:
        if all(key in item for item in items):
            return key
    return None


def strategic_merge(target: Any, patch: Any) -> Any:
    """Strategic merge patch (merge semantics, keyed list merge, directives)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            result[name] = [item for item in result.get(name) or [] if item not in value]
        elif key.startswith("$"):
            continue
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, patch.get(f"$setElementOrder/{key}"))
        else:
            result[key] = strategic_merge(result.get(key), value)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(current: Any, patch: list[Any], order: list[Any] | None) -> list[Any]:
    key = merge_key(patch + (order or []))
    if key is None or not isinstance(current, list) or merge_key(current) != key:
        if key is not None:
            return [strategic_merge(None, item) for item in patch if item.get("$patch") != "delete"]
        return copy.deepcopy(patch)
    merged = {item[key]: item for item in current}
    for item in patch:
        if item.get("$patch") == "delete":
            merged.pop(item[key], None)
        else:
            merged[item[key]] = strategic_merge(merged.get(item[key]), item)
    if order and merge_key(order) == key:
        rank = {item[key]: index for index, item in enumerate(order)}
        return sorted(merged.values(), key=lambda item: rank.get(item[key], len(rank)))
    return list(merged.values())
