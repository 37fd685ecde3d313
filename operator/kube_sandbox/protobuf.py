"""Decode Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) into JSON dicts.

helm v4 sends its release Secrets in this encoding on create and update and does not fall back to
JSON on 415, so the sandbox server calls `decode_object` for such request bodies and then treats
the result like any JSON body. Only the kinds helm sends (Secret) plus ConfigMap are understood;
anything else is refused with a `ProtobufError` naming the kind.

The wire envelope is 4 magic bytes `k8s\\x00` followed by a `runtime.Unknown` message
{1: typeMeta {1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding, 4: contentType}, where `raw` is
the object encoded per k8s.io/api `generated.proto`. The output follows the JSON conventions of the
API types: empty scalars are omitted (`omitempty`), byte maps become base64 strings, timestamps
become RFC 3339 strings in UTC with second precision.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

MAGIC = b"k8s\x00"

WIRE_VARINT = 0
WIRE_FIXED64 = 1
WIRE_LEN = 2
WIRE_FIXED32 = 5


class ProtobufError(ValueError):
    """The body is not a decodable Kubernetes protobuf object; the message says what and where."""


@dataclass(frozen=True)
class Field:
    """One field occurrence on the wire: its number, wire type and raw value (int or bytes)."""

    number: int
    wire_type: int
    value: int | bytes


def read_varint(buf: bytes, pos: int, where: str) -> tuple[int, int]:
    """Read a base-128 varint at `pos`; return (value, next position)."""
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError(f"{where}: truncated varint at byte {pos}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 64:
            raise ProtobufError(f"{where}: varint longer than 10 bytes at byte {pos}")


def _take(buf: bytes, pos: int, size: int, where: str, what: str) -> tuple[bytes, int]:
    end = pos + size
    if end > len(buf):
        raise ProtobufError(
            f"{where}: truncated {what} at byte {pos}: needs {size} bytes, {len(buf) - pos} left"
        )
    return buf[pos:end], end


def iter_fields(buf: bytes, where: str) -> list[Field]:
    """Split one encoded message into its field occurrences, in wire order."""
    fields: list[Field] = []
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos, where)
        number, wire_type = key >> 3, key & 0x7
        if number == 0:
            raise ProtobufError(f"{where}: invalid field number 0 at byte {pos}")
        value: int | bytes
        if wire_type == WIRE_VARINT:
            value, pos = read_varint(buf, pos, where)
        elif wire_type == WIRE_FIXED64:
            raw, pos = _take(buf, pos, 8, where, f"fixed64 field {number}")
            value = int.from_bytes(raw, "little")
        elif wire_type == WIRE_FIXED32:
            raw, pos = _take(buf, pos, 4, where, f"fixed32 field {number}")
            value = int.from_bytes(raw, "little")
        elif wire_type == WIRE_LEN:
            size, pos = read_varint(buf, pos, where)
            value, pos = _take(buf, pos, size, where, f"length-delimited field {number}")
        else:
            raise ProtobufError(f"{where}: unsupported wire type {wire_type} for field {number}")
        fields.append(Field(number, wire_type, value))
    return fields


# A decoder turns one field occurrence into its JSON value; `where` names the JSON path for errors.
Decoder = Callable[[Field, str], Any]


def _expect(field: Field, wire_type: int, where: str) -> None:
    if field.wire_type != wire_type:
        raise ProtobufError(
            f"{where}: field {field.number} has wire type {field.wire_type}, expected {wire_type}"
        )


def _string(field: Field, where: str) -> str:
    _expect(field, WIRE_LEN, where)
    assert isinstance(field.value, bytes)
    try:
        return field.value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtobufError(f"{where}: string is not valid UTF-8 ({exc.reason})") from exc


def _bytes_b64(field: Field, where: str) -> str:
    _expect(field, WIRE_LEN, where)
    assert isinstance(field.value, bytes)
    return base64.b64encode(field.value).decode("ascii")


def _raw(field: Field, where: str) -> bytes:
    _expect(field, WIRE_LEN, where)
    assert isinstance(field.value, bytes)
    return field.value


def _int64(field: Field, where: str) -> int:
    _expect(field, WIRE_VARINT, where)
    assert isinstance(field.value, int)
    return field.value - (1 << 64) if field.value >= 1 << 63 else field.value


def _bool(field: Field, where: str) -> bool:
    _expect(field, WIRE_VARINT, where)
    return bool(field.value)


@dataclass(frozen=True)
class Spec:
    """How one protobuf field maps to JSON: name, value decoder, and whether it repeats or is a map."""

    name: str
    decode: Decoder
    repeated: bool = False
    map_entry: bool = False
    keep_zero: bool = False  # pointer fields (`*bool`, `*int64`) are emitted even when zero


Schema = dict[int, Spec]


def decode_message(buf: bytes, schema: Schema, where: str) -> dict[str, Any]:
    """Decode a message per `schema`; unknown fields are skipped, zero scalars omitted."""
    out: dict[str, Any] = {}
    for field in iter_fields(buf, where):
        spec = schema.get(field.number)
        if spec is None:
            continue
        path = f"{where}.{spec.name}"
        if spec.map_entry:
            key, value = _map_entry(field, spec.decode, path)
            out.setdefault(spec.name, {})[key] = value
        elif spec.repeated:
            out.setdefault(spec.name, []).append(spec.decode(field, path))
        else:
            value = spec.decode(field, path)
            if not spec.keep_zero and value in ("", 0, None, {}):  # 0 also matches False
                out.pop(spec.name, None)
            else:
                out[spec.name] = value
    return out


def _map_entry(field: Field, decode_value: Decoder, where: str) -> tuple[str, Any]:
    _expect(field, WIRE_LEN, where)
    assert isinstance(field.value, bytes)
    key, value = "", None
    for entry in iter_fields(field.value, where):
        if entry.number == 1:
            key = _string(entry, f"{where}[key]")
        elif entry.number == 2:
            value = decode_value(entry, f"{where}[{key!r}]")
    if value is None:
        value = decode_value(Field(2, WIRE_LEN, b""), where)
    return key, value


def message(schema: Schema) -> Decoder:
    """A decoder for an embedded message field."""

    def decode(field: Field, where: str) -> dict[str, Any]:
        _expect(field, WIRE_LEN, where)
        assert isinstance(field.value, bytes)
        return decode_message(field.value, schema, where)

    return decode


def _time(field: Field, where: str) -> str | None:
    """metav1.Time {seconds 1, nanos 2} → RFC 3339 (second precision, UTC); zero time → None."""
    parts = message({1: Spec("seconds", _int64), 2: Spec("nanos", _int64)})(field, where)
    seconds = parts.get("seconds", 0)
    if not seconds and not parts.get("nanos"):
        return None
    try:
        moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError) as exc:
        raise ProtobufError(f"{where}: timestamp {seconds} out of range") from exc
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


OWNER_REFERENCE: Schema = {
    1: Spec("kind", _string),
    3: Spec("name", _string),
    4: Spec("uid", _string),
    5: Spec("apiVersion", _string),
    6: Spec("controller", _bool, keep_zero=True),
    7: Spec("blockOwnerDeletion", _bool, keep_zero=True),
}

# managedFields (17) is deliberately absent: the sandbox does not track field ownership.
OBJECT_META: Schema = {
    1: Spec("name", _string),
    2: Spec("generateName", _string),
    3: Spec("namespace", _string),
    4: Spec("selfLink", _string),
    5: Spec("uid", _string),
    6: Spec("resourceVersion", _string),
    7: Spec("generation", _int64),
    8: Spec("creationTimestamp", _time),
    9: Spec("deletionTimestamp", _time),
    10: Spec("deletionGracePeriodSeconds", _int64, keep_zero=True),
    11: Spec("labels", _string, map_entry=True),
    12: Spec("annotations", _string, map_entry=True),
    13: Spec("ownerReferences", message(OWNER_REFERENCE), repeated=True),
    14: Spec("finalizers", _string, repeated=True),
}

SECRET: Schema = {
    1: Spec("metadata", message(OBJECT_META)),
    2: Spec("data", _bytes_b64, map_entry=True),
    3: Spec("type", _string),
    4: Spec("stringData", _string, map_entry=True),
    5: Spec("immutable", _bool, keep_zero=True),
}

CONFIG_MAP: Schema = {
    1: Spec("metadata", message(OBJECT_META)),
    2: Spec("data", _string, map_entry=True),
    3: Spec("binaryData", _bytes_b64, map_entry=True),
    4: Spec("immutable", _bool, keep_zero=True),
}

KINDS: dict[tuple[str, str], Schema] = {
    ("v1", "Secret"): SECRET,
    ("v1", "ConfigMap"): CONFIG_MAP,
}

TYPE_META: Schema = {1: Spec("apiVersion", _string), 2: Spec("kind", _string)}
UNKNOWN: Schema = {
    1: Spec("typeMeta", message(TYPE_META)),
    2: Spec("raw", _raw),
    3: Spec("contentEncoding", _string),
    4: Spec("contentType", _string),
}


def decode_object(body: bytes) -> dict[str, Any]:
    """Decode a `k8s\\x00`-prefixed protobuf body into the object's JSON form (with apiVersion/kind)."""
    if len(body) < len(MAGIC) or body[: len(MAGIC)] != MAGIC:
        raise ProtobufError(
            f"protobuf body: missing magic prefix {MAGIC!r} (got {body[: len(MAGIC)]!r})"
        )
    payload = body[len(MAGIC) :]
    envelope = decode_message(payload, UNKNOWN, "runtime.Unknown")
    type_meta = envelope.get("typeMeta", {})
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    if envelope.get("contentEncoding"):
        raise ProtobufError(
            f"protobuf body: unsupported contentEncoding {envelope['contentEncoding']!r} "
            f"for {api_version}/{kind}"
        )
    schema = KINDS.get((api_version, kind))
    if schema is None:
        supported = ", ".join(f"{v}/{k}" for v, k in KINDS)
        raise ProtobufError(
            f"protobuf body: unsupported kind {api_version or '<none>'}/{kind or '<none>'} "
            f"(supported: {supported}; send JSON instead)"
        )
    obj = decode_message(envelope.get("raw", b""), schema, kind)
    return {"apiVersion": api_version, "kind": kind, **obj}
