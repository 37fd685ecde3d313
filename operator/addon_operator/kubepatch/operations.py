"""One `$KUBERNETES_PATCH_PATH` operation: its dataclass and its validation.

`parse.py` calls `validate()` on every document of the stream before anything is applied, so a
malformed operation anywhere in the file fails the hook run with nothing changed in the cluster.
`apply.py` then dispatches on the dataclass type. Keys and operations are the ones shell-operator
accepts (docs/hooks.md, "Kubernetes operations"):

- `Create`, `CreateIfNotExists`, `CreateOrUpdate` need `object` (a map, or a YAML/JSON string);
- `Delete`, `DeleteInBackground`, `DeleteNonCascading` need `kind` and `name`;
- `JQPatch` (`jqFilter`), `MergePatch` (`mergePatch`), `JSONPatch` (`jsonPatch`) need `kind`
  and `name`, and honour `subresource` and `ignoreMissingObject`.

`apiVersion` empty lets discovery pick the version; `namespace` empty means a cluster-scoped
object. As upstream, `subresource` on Create* and Delete* is accepted and ignored, and
`ignoreHookError` is accepted and has no effect (shell hooks' outputs are never read after a
failed run).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

import jq
import yaml

from addon_operator.yamlload import JsonCompatibleLoader, describe_type

CREATE = "Create"
CREATE_IF_NOT_EXISTS = "CreateIfNotExists"
CREATE_OR_UPDATE = "CreateOrUpdate"
DELETE = "Delete"
DELETE_IN_BACKGROUND = "DeleteInBackground"
DELETE_NON_CASCADING = "DeleteNonCascading"
JQ_PATCH = "JQPatch"
MERGE_PATCH = "MergePatch"
JSON_PATCH = "JSONPatch"

CREATES = (CREATE, CREATE_IF_NOT_EXISTS, CREATE_OR_UPDATE)
DELETES = (DELETE, DELETE_IN_BACKGROUND, DELETE_NON_CASCADING)
PATCHES = (JQ_PATCH, MERGE_PATCH, JSON_PATCH)
PROPAGATION = {DELETE: "Foreground", DELETE_IN_BACKGROUND: "Background",
               DELETE_NON_CASCADING: "Orphan"}

ALLOWED_KEYS = ("operation", "namespace", "subresource", "apiVersion", "kind", "name", "object",
                "jsonPatch", "jqFilter", "mergePatch", "ignoreMissingObject", "ignoreHookError")
JSON_PATCH_OPS = ("add", "remove", "replace", "move", "copy", "test")


class KubePatchError(Exception):
    """A kubernetes patch stream could not be read, validated or applied; the message names the
    operation (number, operation, kind, namespace/name) and the key or API error."""


@dataclass(frozen=True)
class Target:
    """The object an operation acts on; empty `api_version` = discovery decides, empty
    `namespace` = cluster-scoped."""

    api_version: str
    kind: str
    namespace: str
    name: str

    def describe(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}".strip()


@dataclass(frozen=True)
class Operation:
    """What every operation has: its 1-based `number` in the file, its `operation` name and
    its `target`."""

    number: int
    operation: str
    target: Target

    @property
    def label(self) -> str:
        """How errors name this operation: `operation 2 (MergePatch ConfigMap default/x)`."""
        return f"operation {self.number} ({self.operation} {self.target.describe()})"


@dataclass(frozen=True)
class Create(Operation):
    """`Create`, `CreateIfNotExists` or `CreateOrUpdate` of `object`."""

    object: dict[str, Any]


@dataclass(frozen=True)
class Delete(Operation):
    """`Delete` (foreground, waits until gone), `DeleteInBackground` or `DeleteNonCascading`."""

    @property
    def propagation_policy(self) -> str:
        return PROPAGATION[self.operation]


@dataclass(frozen=True)
class Patch(Operation):
    """What the three patch operations share."""

    subresource: str
    ignore_missing_object: bool


@dataclass(frozen=True)
class JQPatch(Patch):
    """Run `jq_filter` on the current object and replace it with the result if it changed."""

    jq_filter: str


@dataclass(frozen=True)
class MergePatch(Patch):
    """An RFC 7386 JSON merge patch."""

    merge_patch: dict[str, Any]


@dataclass(frozen=True)
class JSONPatch(Patch):
    """An RFC 6902 JSON patch."""

    json_patch: list[dict[str, Any]]


def validate(document: Any, number: int) -> Operation:
    """The operation that `document` (the `number`-th of the stream) describes, or a
    `KubePatchError` naming the document and the offending key."""
    check = _Checker(number)
    if not isinstance(document, dict):
        check.fail(f"must be an object with an `operation` key, got {describe_type(document)}"
                   + (" (a top-level array is not supported: write one document per operation)"
                      if isinstance(document, list) else ""))
    unknown = sorted(set(document) - set(ALLOWED_KEYS))
    if unknown:
        check.fail(f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: "
                   + ", ".join(ALLOWED_KEYS))
    operation = document.get("operation")
    if operation not in (*CREATES, *DELETES, *PATCHES):
        check.fail(f"key 'operation': must be one of {', '.join(CREATES + DELETES + PATCHES)}, "
                   f"got {operation!r}")
    check.operation = operation
    check.optional(document, "ignoreHookError", bool)
    if operation in CREATES:
        return _create(document, check)
    target = Target(
        api_version=check.optional(document, "apiVersion", str) or "",
        kind=check.required_name(document, "kind"),
        namespace=check.optional(document, "namespace", str) or "",
        name=check.required_name(document, "name"),
    )
    subresource = (check.optional(document, "subresource", str) or "").strip("/")
    if operation in DELETES:
        return Delete(number, operation, target)
    ignore_missing = bool(check.optional(document, "ignoreMissingObject", bool))
    if operation == JQ_PATCH:
        return JQPatch(number, operation, target, subresource, ignore_missing,
                       _jq_filter(document, check))
    if operation == MERGE_PATCH:
        return MergePatch(number, operation, target, subresource, ignore_missing,
                          _merge_patch(document, check))
    return JSONPatch(number, operation, target, subresource, ignore_missing,
                     _json_patch(document, check))


class _Checker:
    """Builds the error messages of one document's validation."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.operation = ""

    def fail(self, message: str) -> NoReturn:
        name = f" ({self.operation})" if self.operation else ""
        raise KubePatchError(f"operation {self.number}{name}: {message}")

    def optional(self, document: dict[str, Any], key: str, kind: type) -> Any:
        value = document.get(key)
        if value is not None and not isinstance(value, kind):
            self.fail(f"key {key!r}: must be {describe_type(kind())}, got {describe_type(value)}")
        return value

    def required_name(self, document: dict[str, Any], key: str) -> str:
        value = self.optional(document, key, str)
        if not value:
            self.fail(f"key {key!r} is required for {self.operation}")
        return str(value)

    def decoded(self, document: dict[str, Any], key: str) -> Any:
        """The key's value; a string is read as YAML or JSON."""
        value = document.get(key)
        if value is None:
            self.fail(f"key {key!r} is required for {self.operation}")
        if isinstance(value, str):
            try:
                return yaml.load(value, Loader=JsonCompatibleLoader)
            except yaml.YAMLError as exc:
                self.fail(f"key {key!r}: the string is neither JSON nor YAML: {exc}")
        return value


def _create(document: dict[str, Any], check: _Checker) -> Create:
    obj = check.decoded(document, "object")
    if not isinstance(obj, dict):
        check.fail(f"key 'object': must be an object (or a YAML/JSON string of one), "
                   f"got {describe_type(obj)}")
    for key in ("apiVersion", "kind"):
        if not isinstance(obj.get(key), str) or not obj[key]:
            check.fail(f"key 'object.{key}' is required (a non-empty string)")
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        check.fail("key 'object.metadata' is required (an object with a name)")
    name = metadata.get("name")
    generated = check.operation == CREATE and isinstance(metadata.get("generateName"), str)
    if not (isinstance(name, str) and name) and not generated:
        check.fail("key 'object.metadata.name' is required (a non-empty string"
                   + (", or metadata.generateName)" if check.operation == CREATE else ")"))
    namespace = metadata.get("namespace") or ""
    if not isinstance(namespace, str):
        check.fail(f"key 'object.metadata.namespace': must be a string, got "
                   f"{describe_type(namespace)}")
    target = Target(obj["apiVersion"], obj["kind"], namespace,
                    name or f"{metadata.get('generateName')}*")
    return Create(check.number, check.operation, target, obj)


def _jq_filter(document: dict[str, Any], check: _Checker) -> str:
    text = check.required_name(document, "jqFilter")
    try:
        jq.compile(text)
    except ValueError as exc:
        check.fail(f"key 'jqFilter': does not compile: {str(exc).splitlines()[0].rstrip(':')}")
    return text


def _merge_patch(document: dict[str, Any], check: _Checker) -> dict[str, Any]:
    patch = check.decoded(document, "mergePatch")
    if not isinstance(patch, dict) or not patch:
        check.fail(f"key 'mergePatch': must be an object with at least one key (or a YAML/JSON "
                   f"string of one), got {'{}' if patch == {} else describe_type(patch)}")
    return patch


def _json_patch(document: dict[str, Any], check: _Checker) -> list[dict[str, Any]]:
    patch = check.decoded(document, "jsonPatch")
    if not isinstance(patch, list):
        check.fail(f"key 'jsonPatch': must be a list of RFC 6902 operations (or a YAML/JSON "
                   f"string of one), got {describe_type(patch)}")
    for position, item in enumerate(patch):
        where = f"key 'jsonPatch[{position}]'"
        if not isinstance(item, dict):
            check.fail(f"{where}: must be an object, got {describe_type(item)}")
        if item.get("op") not in JSON_PATCH_OPS:
            check.fail(f"{where}.op: must be one of {', '.join(JSON_PATCH_OPS)}, "
                       f"got {item.get('op')!r}")
        if not isinstance(item.get("path"), str):
            check.fail(f"{where}.path: a JSON pointer string is required")
        if item["op"] in ("add", "replace", "test") and "value" not in item:
            check.fail(f"{where}: op {item['op']!r} needs a 'value'")
        if item["op"] in ("move", "copy") and not isinstance(item.get("from"), str):
            check.fail(f"{where}: op {item['op']!r} needs a 'from' JSON pointer string")
    return patch
