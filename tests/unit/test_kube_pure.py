"""The pure parts of the Kubernetes adapter: errors, resource paths, discovery, Event bodies."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from addon_operator.kube import (
    EVENTS, MODULES, Conflict, Gone, KubeClient, KubeConfigError, KubeError, NotFound, Resource,
)
from addon_operator.kube import errors, events, resources

DEPLOYMENTS = Resource("apps", "v1", "deployments", True, "Deployment", "deployment", ("deploy",))


def test_status_bodies_become_typed_errors_naming_the_object() -> None:
    body = b'{"kind":"Status","code":404,"reason":"NotFound","message":"modules \\"x\\" not found"}'
    error = errors.error_from_response(404, "Not Found", body, what="modules/x")
    assert isinstance(error, NotFound)
    assert (error.status, error.reason) == (404, "NotFound")
    assert str(error) == 'modules/x: 404 NotFound: modules "x" not found'
    assert isinstance(errors.error_from_response(409, "Conflict", b"", what="x"), Conflict)
    assert isinstance(errors.error_from_status({"code": 410, "reason": "Expired"}), Gone)
    plain = errors.error_from_response(502, "Bad Gateway", b"<html>proxy</html>")
    assert type(plain) is KubeError and plain.message == "<html>proxy</html>"
    throttled = errors.error_from_response(429, "Too Many", b"", retry_after="3")
    assert throttled.retry_after == 3.0


def test_only_unanswered_throttled_and_server_errors_are_retried() -> None:
    assert errors.retryable(errors.no_response(ConnectionRefusedError("refused")))
    assert errors.retryable(KubeError(429, "TooManyRequests", ""))
    assert errors.retryable(KubeError(503, "ServiceUnavailable", ""))
    for status in (400, 403, 404, 409, 410, 422):
        assert not errors.retryable(KubeError(status, "x", ""))
    assert not errors.retryable(ValueError("not an API error"))


def test_resource_paths() -> None:
    assert MODULES.path() == "/apis/addon-operator.io/v1alpha1/modules"
    assert MODULES.path("cert-manager", subresource="status") == (
        "/apis/addon-operator.io/v1alpha1/modules/cert-manager/status")
    assert EVENTS.path("e.1", namespace="default") == "/api/v1/namespaces/default/events/e.1"
    assert EVENTS.path() == "/api/v1/events", "all namespaces"
    assert DEPLOYMENTS.api_version == "apps/v1" and EVENTS.api_version == "v1"
    with pytest.raises(ValueError, match="modules.addon-operator.io is cluster-scoped"):
        MODULES.path("x", namespace="ns")
    assert MODULES.describe("x") == "modules.addon-operator.io/x"
    assert EVENTS.describe("e", "ns") == "events/ns/e"


CORE_LIST = {
    "kind": "APIResourceList", "groupVersion": "v1",
    "resources": [
        {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod",
         "shortNames": ["po"]},
        {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod"},
        {"name": "configmaps", "singularName": "", "namespaced": True, "kind": "ConfigMap",
         "shortNames": ["cm"]},
    ],
}


def test_discovery_documents_and_kind_matching_by_any_spelling() -> None:
    found = resources.resources_of(CORE_LIST)
    assert [r.plural for r in found] == ["pods", "configmaps"], "subresources left out"
    pod = found[0]
    assert pod == Resource("", "v1", "pods", True, "Pod", "pod", ("po",))
    assert found[1].singular == "configmap", "an empty singularName falls back to the kind"
    for spelling in ("Pod", "pod", "PODS", "po", "Po"):
        assert resources.match(found, spelling) == pod
    assert resources.match(found, "cm") == found[1]
    assert resources.match(found, "deployment") is None


def test_an_exact_kind_wins_over_other_spellings() -> None:
    odd = Resource("x.io", "v1", "pods", True, "Thing", "thing", ())
    real = Resource("", "v1", "things", True, "Pod", "pod", ())
    assert resources.match([odd, real], "Pod") == real


def test_preferred_versions_of_an_api_group_list() -> None:
    group_list = {"groups": [
        {"name": "apps", "preferredVersion": {"groupVersion": "apps/v1"},
         "versions": [{"groupVersion": "apps/v1"}]},
        {"name": "x.io", "versions": [{"groupVersion": "x.io/v2"}, {"groupVersion": "x.io/v1"}]},
    ]}
    assert resources.preferred_versions(group_list) == ["apps/v1", "x.io/v2"]
    assert resources.split_api_version("apps/v1") == ("apps", "v1")
    assert resources.split_api_version("v1") == ("", "v1")


MODULE_OBJ = {"apiVersion": "addon-operator.io/v1alpha1", "kind": "Module",
              "metadata": {"name": "cert-manager", "uid": "u-1", "resourceVersion": "7"}}


def test_event_body_for_a_cluster_scoped_object() -> None:
    ref = events.involved_reference(MODULE_OBJ)
    assert ref == {"apiVersion": "addon-operator.io/v1alpha1", "kind": "Module",
                   "name": "cert-manager", "uid": "u-1", "resourceVersion": "7"}
    now = datetime(2024, 5, 1, 12, 0, 3, 500000, tzinfo=timezone.utc)
    body = events.event_body(ref, name="cert-manager.1", namespace="default", type_="Warning",
                             reason="HookFailed", message="x" * 5000, component="addon-operator",
                             now=now)
    assert body["firstTimestamp"] == body["lastTimestamp"] == "2024-05-01T12:00:03Z"
    assert body["count"] == 1 and body["involvedObject"] is ref
    assert body["source"] == {"component": "addon-operator"}
    assert len(body["message"]) == events.MESSAGE_LIMIT
    with pytest.raises(ValueError, match="'Normal' or 'Warning'"):
        events.event_body(ref, name="n", namespace="d", type_="Error", reason="r", message="m",
                          component="c", now=now)


def test_event_needs_a_kind_and_a_name() -> None:
    with pytest.raises(ValueError, match="kind and metadata.name"):
        events.involved_reference({"metadata": {"name": "x"}})


def test_event_names_are_valid_and_distinct() -> None:
    first = events.event_name("Weird_Name!", 0x1234, 0)
    assert first == "weird-name.1234.0"
    assert events.event_name("m", 0x1234, 1) != events.event_name("m", 0x1234, 0)
    assert len(events.event_name("a" * 300, 1, 1)) < 253


def test_aggregation_key_separates_reasons_and_messages() -> None:
    ref = events.involved_reference(MODULE_OBJ)
    key = events.aggregation_key(ref, "Normal", "HelmUpgraded", "revision 2", "addon-operator")
    assert key == events.aggregation_key(dict(ref), "Normal", "HelmUpgraded", "revision 2",
                                         "addon-operator")
    assert key != events.aggregation_key(ref, "Normal", "HelmUpgraded", "revision 3",
                                         "addon-operator")


def test_missing_kubeconfig_file_is_named(tmp_path: object, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    missing = f"{tmp_path}/nope.yaml"
    with pytest.raises(KubeConfigError, match="nope.yaml"):
        KubeClient.from_kubeconfig(missing)
