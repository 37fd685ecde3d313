"""Decoding of Kubernetes protobuf bodies: real helm v4.1.4 release Secrets plus hand-encoded objects.

`testdata/helm-release-secret.pb` (create) and `helm-release-secret-update.pb` (update) are request
bodies captured from the pinned helm talking to a throwaway HTTP server; the ConfigMap and error
cases are built with the minimal encoder below.
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from kube_sandbox.protobuf import ProtobufError, decode_object

TESTDATA = Path(__file__).parent / "testdata"


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def ld(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(data)) + data


def vi(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def entry(number: int, key: str, value: bytes | str) -> bytes:
    return ld(number, ld(1, key) + ld(2, value))


def envelope(api_version: str, kind: str, raw: bytes, encoding: str = "") -> bytes:
    type_meta = ld(1, api_version) + ld(2, kind)
    body = ld(1, type_meta) + ld(2, raw) + ld(3, encoding) + ld(4, "")
    return b"k8s\x00" + body


def helm_release(secret: dict) -> dict:
    """helm stores base64(gzip(JSON)) as the Secret's `release` bytes."""
    stored = base64.b64decode(secret["data"]["release"])
    return json.loads(gzip.decompress(base64.b64decode(stored)))


def test_helm_install_secret_decodes_to_the_release_helm_wrote() -> None:
    secret = decode_object((TESTDATA / "helm-release-secret.pb").read_bytes())
    assert secret["apiVersion"] == "v1"
    assert secret["kind"] == "Secret"
    assert secret["type"] == "helm.sh/release.v1"
    meta = secret["metadata"]
    assert meta["name"] == "sh.helm.release.v1.demo.v1"
    assert meta["labels"] == {
        "createdAt": "1795476035", "foo": "bar", "name": "demo", "owner": "helm",
        "status": "pending-install", "version": "1",
    }
    release = helm_release(secret)
    assert (release["name"], release["namespace"], release["version"]) == ("demo", "default", 1)
    assert release["info"]["status"] == "pending-install"


def test_helm_sends_empty_strings_and_zero_time_which_json_omits() -> None:
    meta = decode_object((TESTDATA / "helm-release-secret.pb").read_bytes())["metadata"]
    # helm's body carries generateName/namespace/selfLink/uid/resourceVersion = "", generation 0
    # and an empty creationTimestamp; the namespace comes from the URL, not the body.
    assert set(meta) == {"name", "labels"}


def test_helm_update_secret_carries_the_new_status() -> None:
    secret = decode_object((TESTDATA / "helm-release-secret-update.pb").read_bytes())
    assert secret["metadata"]["labels"]["status"] == "deployed"
    assert "modifiedAt" in secret["metadata"]["labels"]
    assert "resourceVersion" not in secret["metadata"]
    assert helm_release(secret)["info"]["status"] == "deployed"


def test_config_map_with_full_metadata() -> None:
    owner = ld(1, "Deployment") + ld(3, "web") + ld(4, "uid-1") + ld(5, "apps/v1") + vi(6, 1) + vi(7, 0)
    meta = (
        ld(1, "cm") + ld(3, "prod") + ld(5, "u-1") + ld(6, "42") + vi(7, 3)
        + ld(8, vi(1, 1700000000) + vi(2, 500))
        + vi(10, (1 << 64) - 1)
        + entry(11, "app", "web") + entry(12, "note", "")
        + ld(13, owner) + ld(14, "a/b") + ld(14, "c/d")
        + ld(17, ld(1, "kubectl"))
    )
    raw = ld(1, meta) + entry(2, "k", "v") + entry(3, "bin", b"\x00\xff") + vi(4, 0)
    obj = decode_object(envelope("v1", "ConfigMap", raw))
    assert obj == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "cm", "namespace": "prod", "uid": "u-1", "resourceVersion": "42",
            "generation": 3, "creationTimestamp": "2023-11-14T22:13:20Z",
            "deletionGracePeriodSeconds": -1,
            "labels": {"app": "web"}, "annotations": {"note": ""},
            "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": "uid-1",
                                 "apiVersion": "apps/v1", "controller": True,
                                 "blockOwnerDeletion": False}],
            "finalizers": ["a/b", "c/d"],
        },
        "data": {"k": "v"},
        "binaryData": {"bin": "AP8="},
        "immutable": False,
    }


def test_secret_string_data_and_unknown_fields_of_every_wire_type_are_skipped() -> None:
    unknown = vi(99, 5) + varint(98 << 3 | 1) + bytes(8) + varint(97 << 3 | 5) + bytes(4) + ld(96, "x")
    raw = ld(1, ld(1, "s")) + entry(4, "user", "admin") + vi(5, 1) + unknown
    obj = decode_object(envelope("v1", "Secret", raw))
    assert obj["stringData"] == {"user": "admin"}
    assert obj["immutable"] is True
    assert obj["metadata"] == {"name": "s"}


def test_repeated_scalar_field_keeps_the_last_value() -> None:
    obj = decode_object(envelope("v1", "Secret", ld(3, "Opaque") + ld(3, "kubernetes.io/tls")))
    assert obj["type"] == "kubernetes.io/tls"


def test_wrong_magic_is_refused() -> None:
    with pytest.raises(ProtobufError, match="missing magic prefix"):
        decode_object(b'{"kind": "Secret"}')


def test_truncated_body_names_the_problem() -> None:
    body = (TESTDATA / "helm-release-secret.pb").read_bytes()
    with pytest.raises(ProtobufError, match="truncated"):
        decode_object(body[:200])


def test_truncated_varint() -> None:
    with pytest.raises(ProtobufError, match="truncated varint"):
        decode_object(b"k8s\x00\x08\x80")


def test_unsupported_kind_is_named() -> None:
    with pytest.raises(ProtobufError, match=r"unsupported kind v1/Pod .*send JSON"):
        decode_object(envelope("v1", "Pod", b""))


def test_content_encoding_is_refused() -> None:
    with pytest.raises(ProtobufError, match="contentEncoding 'gzip'"):
        decode_object(envelope("v1", "Secret", b"", encoding="gzip"))


def test_group_wire_type_is_refused() -> None:
    with pytest.raises(ProtobufError, match="unsupported wire type 3"):
        decode_object(envelope("v1", "Secret", varint(1 << 3 | 3)))


def test_wrong_wire_type_for_a_known_field_names_the_json_path() -> None:
    raw = ld(1, vi(1, 7))  # metadata.name sent as a varint
    with pytest.raises(ProtobufError, match=r"Secret\.metadata\.name: field 1 has wire type 0"):
        decode_object(envelope("v1", "Secret", raw))


def test_invalid_utf8_in_a_string() -> None:
    with pytest.raises(ProtobufError, match="not valid UTF-8"):
        decode_object(envelope("v1", "Secret", ld(3, b"\xff\xfe")))
