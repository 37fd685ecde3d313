"""Hook values patches: parsing, the per-hook rules, applying, compaction, `*Enabled` ops.

Hooks write `$VALUES_JSON_PATCH_PATH` (and `$CONFIG_VALUES_JSON_PATCH_PATH`) as a stream of JSON
documents, each a single RFC 6902 operation or an array of them. The hook runner reads the file
and calls, in order: `parse_patch_stream`, then `check_module_patch` (module hooks: only paths
under `/<moduleKey>`) or `check_global_patch` (global hooks: `/global/...` values ops, and
`/<moduleKey>Enabled` ops split off for the dynamic enablement step), then `apply_patch(strict=True)`
on the current values (removing a missing path fails the hook), then `compact` to store the ops;
`compose.py` re-applies the stored ops with `strict=False` on every recompute.

Operations: `add` and `remove` change values; `test` is accepted (it only asserts, so `compact`
does not store it); `replace` is rejected as upstream does ("unsupported patch operation
'replace'"); `move` and `copy` are rejected the same way.

Messages name an operation by its `op` and `path` only, never by its `value` nor by a value
found in the document: values hold secrets, and these messages reach statuses, Events and logs.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from addon_operator.jsonstream import documents
from addon_operator.yamlload import describe_type

Op = dict[str, Any]

_OPS_WITH_VALUE = ("add", "test")
_SUPPORTED_OPS = ("add", "remove", "test")
_KNOWN_OPS = ("add", "remove", "replace", "move", "copy", "test")
GLOBAL_KEY = "global"
_ENABLED_SUFFIX = "Enabled"


class PatchError(ValueError):
    """A values patch is malformed, breaks a rule, or does not apply."""


def parse_patch_stream(text: str, *, source: str = "values patch") -> list[Op]:
    """Every operation of a JSON stream, in order; blank text gives []."""
    ops: list[Op] = []
    try:
        for doc in documents(text):
            where = f"line {doc.line} column {doc.column}"
            items = doc.value if isinstance(doc.value, list) else [doc.value]
            for index, item in enumerate(items):
                label = f"{where}, item {index}" if isinstance(doc.value, list) else where
                ops.append(_checked_op(item, f"{source}: {label}"))
    except json.JSONDecodeError as err:
        raise PatchError(
            f"{source}: line {err.lineno} column {err.colno}: invalid JSON: {err.msg}"
        ) from None
    return ops


def _checked_op(item: Any, where: str) -> Op:
    if not isinstance(item, dict):
        raise PatchError(
            f"{where}: expected a JSON patch operation object, got {describe_type(item)}"
        )
    op, path = item.get("op"), item.get("path")
    if op not in _KNOWN_OPS:
        raise PatchError(f"{where}: 'op' must be one of {', '.join(_KNOWN_OPS)}, got {op!r}")
    if not isinstance(path, str):
        raise PatchError(f"{where}: operation {op!r} needs a string 'path'")
    if op in _OPS_WITH_VALUE and "value" not in item:
        raise PatchError(f"{where}: operation {op!r} on {path!r} needs a 'value'")
    try:
        parse_pointer(path)
    except PatchError as err:
        raise PatchError(f"{where}: {err}") from None
    return item


def describe(op: Op) -> str:
    """An operation for messages: its `op`, `path` and `from` as JSON, never its `value`."""
    text = json.dumps({key: op[key] for key in ("op", "path", "from") if key in op}, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def parse_pointer(path: str) -> list[str]:
    """RFC 6901 JSON pointer → unescaped tokens ("" is the whole document)."""
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}: it must start with '/'")
    tokens = []
    for raw in path[1:].split("/"):
        if "~" in raw.replace("~0", "").replace("~1", ""):
            raise PatchError(f"invalid JSON pointer {path!r}: '~' must be followed by 0 or 1")
        tokens.append(raw.replace("~1", "/").replace("~0", "~"))
    return tokens


def _root_key(op: Op) -> str | None:
    tokens = parse_pointer(op["path"])
    return tokens[0] if tokens else None


def _check_op_kind(op: Op) -> None:
    if op["op"] not in _SUPPORTED_OPS:
        raise PatchError(f"unsupported patch operation {op['op']!r}: {describe(op)}")


def check_module_patch(ops: list[Op], module_key: str) -> None:
    """A module hook may only add/remove/test under `/<module_key>`; raise PatchError otherwise."""
    for op in ops:
        _check_op_kind(op)
        if _root_key(op) != module_key:
            raise PatchError(
                f"patch path {op['path']!r} is outside the module's values: only "
                f"'/{module_key}/...' is accepted: {describe(op)}"
            )


def check_global_patch(ops: list[Op]) -> tuple[list[Op], list[Op]]:
    """Split a global hook's ops into (values ops under `/global`, `/<moduleKey>Enabled` ops)."""
    values_ops: list[Op] = []
    enabled_ops: list[Op] = []
    for op in ops:
        _check_op_kind(op)
        root = _root_key(op)
        if root == GLOBAL_KEY:
            values_ops.append(op)
        elif root is not None and root.endswith(_ENABLED_SUFFIX) and root != _ENABLED_SUFFIX:
            _check_enabled_op(op)
            enabled_ops.append(op)
        else:
            raise PatchError(
                f"patch path {op['path']!r} is not accepted from a global hook: only "
                f"'/global/...' and '/<moduleKey>Enabled' are: {describe(op)}"
            )
    return values_ops, enabled_ops


def _check_enabled_op(op: Op) -> None:
    if len(parse_pointer(op["path"])) != 1 or op["op"] == "test":
        raise PatchError(
            f"an Enabled flag takes only 'add' or 'remove' of the whole key: {describe(op)}"
        )
    if op["op"] == "add":
        _enabled_value(op)


def _enabled_value(op: Op) -> bool:
    value = op["value"]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise PatchError(f"an Enabled flag must be true/false or \"true\"/\"false\", got "
                     f"{describe_type(value)}: {describe(op)}")


def enabled_patch_values(ops: list[Op]) -> dict[str, bool | None]:
    """`/<moduleKey>Enabled` ops → {moduleKey: True/False, or None when removed}; later ops win."""
    result: dict[str, bool | None] = {}
    for op in ops:
        root = _root_key(op)
        if root is None or not root.endswith(_ENABLED_SUFFIX) or root == _ENABLED_SUFFIX:
            continue
        key = root[: -len(_ENABLED_SUFFIX)]
        if op["op"] == "add":
            result[key] = _enabled_value(op)
        elif op["op"] == "remove":
            result[key] = None
    return result


def compact(stored: list[Op], new: list[Op]) -> list[Op]:
    """The stored list after `new`: last op per path, parents' add/remove drop sub-paths, sorted."""
    by_path: dict[str, Op] = {op["path"]: op for op in stored if op["op"] != "test"}
    for op in new:
        if op["op"] == "test":
            continue
        prefix = op["path"] + "/"
        for path in [p for p in by_path if p.startswith(prefix)]:
            del by_path[path]
        by_path[op["path"]] = op
    return [by_path[path] for path in sorted(by_path)]


def apply_patch(doc: Any, ops: list[Op], *, strict: bool) -> Any:
    """A new document with `ops` applied in order.

    strict: every op must apply (a `remove` of a missing path raises PatchError).
    Not strict: a `remove` whose path is missing is skipped; other failures still raise.
    """
    result = copy.deepcopy(doc)
    for op in ops:
        _check_op_kind(op)
        try:
            result = _apply_one(result, op)
        except _Missing as missing:
            if strict or op["op"] != "remove":
                raise PatchError(f"cannot apply {describe(op)}: {missing}") from None
    return result


class _Missing(Exception):
    """The path an operation needs does not exist in the document."""


def _apply_one(doc: Any, op: Op) -> Any:
    tokens = parse_pointer(op["path"])
    if not tokens:
        if op["op"] == "add":
            return copy.deepcopy(op["value"])
        if op["op"] == "test":
            _test(doc, op)
            return doc
        raise PatchError(f"cannot remove the whole document: {describe(op)}")
    parent = doc
    for depth, token in enumerate(tokens[:-1]):
        parent = _child(parent, token, "/".join(tokens[: depth + 1]))
    last = tokens[-1]
    if op["op"] == "add":
        _add(parent, last, copy.deepcopy(op["value"]), op)
    elif op["op"] == "remove":
        _remove(parent, last, op)
    else:
        _test(_child(parent, last, op["path"]), op)
    return doc


def _child(node: Any, token: str, where: str) -> Any:
    if isinstance(node, dict):
        if token not in node:
            raise _Missing(f"path '/{where}' does not exist")
        return node[token]
    if isinstance(node, list):
        index = _index(token, len(node) - 1, where)
        return node[index]
    raise _Missing(f"path '/{where}' does not exist (its parent is not an object or array)")


def _index(token: str, highest: int, where: str) -> int:
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise PatchError(f"'{token}' in '/{where}' is not an array index")
    index = int(token)
    if index > highest:
        raise _Missing(f"array index {index} in '/{where}' is out of range")
    return index


def _add(parent: Any, token: str, value: Any, op: Op) -> None:
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list):
        index = len(parent) if token == "-" else _index(token, len(parent), op["path"][1:])
        parent.insert(index, value)
    else:
        raise _Missing(f"the parent of {op['path']!r} is not an object or array")


def _remove(parent: Any, token: str, op: Op) -> None:
    if isinstance(parent, dict):
        if token not in parent:
            raise _Missing(f"path {op['path']!r} does not exist")
        del parent[token]
    elif isinstance(parent, list):
        del parent[_index(token, len(parent) - 1, op["path"][1:])]
    else:
        raise _Missing(f"the parent of {op['path']!r} is not an object or array")


def _test(actual: Any, op: Op) -> None:
    if not _json_equal(actual, op["value"]):
        raise PatchError(f"test failed: {op['path']!r} does not hold the value the operation "
                         f"expects: {describe(op)}")


def _json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: true is not 1, 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b
