"""Request routing without sockets: paths, content types, Tables, discovery forms, dry runs,
watch timeouts and legacy watch paths, driven through `Router.handle`."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from kube_sandbox import SandboxServer
from kube_sandbox.router import Request, Response

CM = "/api/v1/namespaces/default/configmaps"


@pytest.fixture(scope="module")
def server() -> SandboxServer:
    clock = lambda: datetime(2024, 5, 1, tzinfo=timezone.utc)  # noqa: E731
    return SandboxServer(bookmark_interval=60, clock=clock)  # never started: no socket needed


def call(server: SandboxServer, method: str, target: str, body: object = None, **headers: str) -> Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    lowered = {k.replace("_", "-").lower(): v for k, v in headers.items()}
    return server.router.handle(Request(method, target, lowered, raw))


def test_yaml_apply_body_creates_then_updates(server: SandboxServer) -> None:
    manifest = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: '1'\n"
    created = call(server, "PATCH", f"{CM}/from-yaml?fieldManager=me", manifest, content_type="application/apply-patch+yaml")
    assert created.status == 201 and created.body["data"] == {"a": "1"}
    missing_manager = call(server, "PATCH", f"{CM}/from-yaml", manifest, content_type="application/apply-patch+yaml")
    assert missing_manager.status == 400
    updated = call(server, "PATCH", f"{CM}/from-yaml?fieldManager=me", manifest.replace(b"'1'", b"'2'"),
                   content_type="application/apply-patch+yaml")
    assert updated.status == 200 and updated.body["data"] == {"a": "2"}
    assert server.store.get(("", "configmaps"), "default", "from-yaml")["data"] == {"a": "2"}


def test_dry_run_stores_nothing(server: SandboxServer) -> None:
    response = call(server, "POST", f"{CM}?dryRun=All", {"metadata": {"name": "dry"}})
    assert response.status == 201 and response.body["metadata"]["name"] == "dry"
    assert server.store.get(("", "configmaps"), "default", "dry") is None


def test_errors_for_paths_methods_and_bodies(server: SandboxServer) -> None:
    assert call(server, "GET", "/api/v1/widgets").status == 404
    assert call(server, "GET", "/apis/nope.io/v1").status == 404
    assert call(server, "PUT", CM, {}).body["reason"] == "MethodNotAllowed"
    broken = call(server, "POST", CM, b"{not json")
    assert (broken.status, broken.body["reason"]) == (400, "BadRequest")
    proto = call(server, "POST", CM, b"k8s\x00garbage", content_type="application/vnd.kubernetes.protobuf")
    assert proto.status == 415
    wrong_kind = call(server, "POST", CM, {"kind": "Secret", "metadata": {"name": "x"}})
    assert wrong_kind.status == 400
    assert call(server, "PATCH", f"{CM}/x", {}, content_type="text/plain").status == 415


def test_table_output_for_list_and_get(server: SandboxServer) -> None:
    call(server, "POST", CM, {"metadata": {"name": "t1"}, "data": {"a": "1", "b": "2"}})
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    table = call(server, "GET", CM, accept=accept)
    assert table.content_type.startswith("application/json;as=Table") and table.body["kind"] == "Table"
    assert [c["name"] for c in table.body["columnDefinitions"]] == ["Name", "Data", "Age"]
    row = next(r for r in table.body["rows"] if r["cells"][0] == "t1")
    assert row["cells"][1] == 2 and row["object"]["kind"] == "PartialObjectMetadata"
    single = call(server, "GET", f"{CM}/t1?includeObject=Object", accept=accept)
    assert single.body["rows"][0]["object"]["data"] == {"a": "1", "b": "2"}


def test_discovery_forms(server: SandboxServer) -> None:
    aggregated = call(server, "GET", "/apis", accept="application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")
    assert aggregated.content_type == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    apps = next(g for g in aggregated.body["items"] if g["metadata"]["name"] == "apps")
    deployments = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deployments["scope"] == "Namespaced" and deployments["subresources"][0]["subresource"] == "status"
    legacy = call(server, "GET", "/apis")
    assert legacy.body["kind"] == "APIGroupList"
    core = call(server, "GET", "/api/v1").body
    names = {r["name"] for r in core["resources"]}
    assert {"pods", "pods/status", "namespaces/status", "configmaps", "events"} <= names
    assert call(server, "GET", "/version").body["gitVersion"].startswith("v1.")
    index = call(server, "GET", "/openapi/v3").body["paths"]
    assert call(server, "GET", index["api/v1"]["serverRelativeURL"]).status == 200


def test_watch_timeout_and_legacy_watch_path(server: SandboxServer) -> None:
    call(server, "POST", CM, {"metadata": {"name": "w1"}})
    rv = call(server, "GET", CM).body["metadata"]["resourceVersion"]
    call(server, "POST", CM, {"metadata": {"name": "w2"}})
    call(server, "POST", CM, {"metadata": {"name": "w3"}})
    response = call(server, "GET", f"/api/v1/watch/namespaces/default/configmaps/w3?resourceVersion={rv}&timeoutSeconds=0.2")
    assert response.stream is not None
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in response.stream] == [("ADDED", "w3")]
    bad = call(server, "GET", f"{CM}?watch=1&resourceVersion=abc")
    assert bad.status == 400
