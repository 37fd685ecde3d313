"""Server-side Table output: CRD printer columns, kubectl JSONPath, ages, built-in column sets."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kube_sandbox.jsonpath import JsonPathError, find_results, parse_jsonpath
from kube_sandbox.tables import build_table, default_columns_for, go_text, human_duration

NOW = datetime(2025, 1, 10, 12, 0, 0, tzinfo=timezone.utc)


def stamp(ago: timedelta) -> str:
    return (NOW - ago).strftime("%Y-%m-%dT%H:%M:%SZ")


# The Module CRD's printer columns as docs/crd-reference.md (Module, Printer columns) lists them.
MODULE_COLUMNS = [
    {"name": "Enabled", "type": "string",
     "jsonPath": '.status.conditions[?(@.type=="Enabled")].status'},
    {"name": "Ready", "type": "string",
     "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Revision", "type": "integer", "jsonPath": ".status.release.revision"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {"name": "Message", "type": "string", "jsonPath": ".status.message", "priority": 1},
    {"name": "Weight", "type": "integer", "jsonPath": ".status.weight", "priority": 1},
    {"name": "Suspended", "type": "boolean", "jsonPath": ".spec.suspend", "priority": 1},
]


def module(name: str, **status: object) -> dict:
    return {
        "apiVersion": "addon-operator.io/v1alpha1",
        "kind": "Module",
        "metadata": {"name": name, "uid": f"uid-{name}", "resourceVersion": "7",
                     "creationTimestamp": stamp(timedelta(minutes=5))},
        "spec": {"suspend": False},
        "status": status,
    }


READY_MODULE = module(
    "cert-manager",
    phase="Ready", message="all good", weight=10, release={"revision": 3},
    conditions=[{"type": "Enabled", "status": "True"}, {"type": "Ready", "status": "False"}],
)


@pytest.mark.parametrize(("seconds", "text"), [
    (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (119, "119s"), (120, "2m"), (303, "5m3s"),
    (600, "10m"), (3 * 3600 - 1, "179m"), (3 * 3600, "3h"), (3 * 3600 + 120, "3h2m"),
    (8 * 3600, "8h"), (47 * 3600, "47h"), (48 * 3600, "2d"), (50 * 3600, "2d2h"),
    (8 * 86400, "8d"), (729 * 86400, "729d"), (730 * 86400, "2y"), (731 * 86400, "2y1d"),
    (8 * 365 * 86400 + 86400, "8y"),
])
def test_human_duration_matches_apimachinery(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def test_module_table_columns_and_cells() -> None:
    table = build_table([READY_MODULE], MODULE_COLUMNS, now=NOW,
                        list_meta={"resourceVersion": "12"})
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert table["kind"] == "Table"
    assert table["metadata"] == {"resourceVersion": "12"}
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names == ["Name", "Enabled", "Ready", "Phase", "Revision", "Age", "Message", "Weight",
                     "Suspended"]
    assert table["columnDefinitions"][0]["format"] == "name"
    assert table["columnDefinitions"][6]["priority"] == 1
    assert set(table["columnDefinitions"][1]) == {"name", "type", "format", "description", "priority"}
    row = table["rows"][0]
    assert row["cells"] == ["cert-manager", "True", "False", "Ready", 3, "5m", "all good", 10, False]


def test_missing_values_are_null_cells() -> None:
    fresh = module("new")
    del fresh["spec"]
    row = build_table([fresh], MODULE_COLUMNS, now=NOW)["rows"][0]
    assert row["cells"] == ["new", None, None, None, None, "5m", None, None, None]


def test_row_object_per_include_object() -> None:
    metadata_row = build_table([READY_MODULE], None, now=NOW)["rows"][0]
    assert metadata_row["object"] == {
        "apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
        "metadata": READY_MODULE["metadata"],
    }
    assert build_table([READY_MODULE], None, include_object="Object", now=NOW)["rows"][0][
        "object"] is READY_MODULE
    assert "object" not in build_table([READY_MODULE], None, include_object="None", now=NOW)[
        "rows"][0]
    with pytest.raises(ValueError, match="includeObject 'Full'"):
        build_table([READY_MODULE], None, include_object="Full")


def test_default_columns_are_name_and_age() -> None:
    table = build_table([READY_MODULE], None, now=NOW)
    assert [(c["name"], c["type"]) for c in table["columnDefinitions"]] == [
        ("Name", "string"), ("Age", "date")]
    assert table["rows"][0]["cells"] == ["cert-manager", "5m"]


def test_only_the_first_match_is_used_and_types_are_converted() -> None:
    obj = {"metadata": {"name": "x", "creationTimestamp": "garbage"},
           "spec": {"ports": [{"port": 80}, {"port": 443}], "ratio": 2.5, "flag": True,
                    "nested": {"b": 1, "a": [1, 2]}, "big": 1234567.0, "count": "3"}}
    columns = [
        {"name": "Port", "type": "integer", "jsonPath": ".spec.ports[*].port"},
        {"name": "Ratio", "type": "integer", "jsonPath": ".spec.ratio"},
        {"name": "AsNumber", "type": "number", "jsonPath": ".spec.ports[0].port"},
        {"name": "Flag", "type": "string", "jsonPath": ".spec.flag"},
        {"name": "Nested", "type": "string", "jsonPath": ".spec.nested"},
        {"name": "Big", "type": "string", "jsonPath": ".spec.big"},
        {"name": "WrongType", "type": "integer", "jsonPath": ".spec.count"},
        {"name": "NotBool", "type": "boolean", "jsonPath": ".spec.count"},
        {"name": "Created", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]
    cells = build_table([obj], columns, now=NOW)["rows"][0]["cells"]
    assert cells == ["x", 80, 2, 80.0, "true", '{"a":[1,2],"b":1}', "1.234567e+06", None, None,
                     "<invalid>"]
    assert isinstance(cells[3], float)


def test_bad_column_jsonpath_names_the_column() -> None:
    with pytest.raises(JsonPathError, match="printer column 'Broken'.*unclosed"):
        build_table([], [{"name": "Broken", "type": "string", "jsonPath": ".a[0"}])


CONDITIONS = {
    "status": {"conditions": [
        {"type": "Ready", "status": "True", "reason": "Done", "observedGeneration": 2},
        {"type": "Stalled", "status": "False"},
        {"type": "Reconciling", "status": "False", "reason": "Idle"},
    ]},
    "metadata": {"labels": {"app.kubernetes.io/name": "web", "tier": "front"}},
}


@pytest.mark.parametrize(("path", "expected"), [
    ('.status.conditions[?(@.type=="Ready")].status', ["True"]),
    ("{.status.conditions[?(@.type=='Ready')].reason}", ["Done"]),
    ('.status.conditions[?(@.type!="Ready")].type', ["Stalled", "Reconciling"]),
    (".status.conditions[?(@.reason!='Idle')].type", ["Ready"]),  # no reason → excluded
    (".status.conditions[?(@.observedGeneration>=2)].type", ["Ready"]),
    (".status.conditions[?(@.reason)].type", ["Ready", "Reconciling"]),
    (".status.conditions[0].type", ["Ready"]),
    (".status.conditions[-1].type", ["Reconciling"]),
    (".status.conditions[5].type", []),
    (".status.conditions[1:].status", ["False", "False"]),
    (".status.conditions[*].status", ["True", "False", "False"]),
    (".metadata.labels['app.kubernetes.io/name']", ["web"]),
    (r".metadata.labels.app\.kubernetes\.io/name", ["web"]),
    (".metadata.labels.*", ["web", "front"]),
    ("..reason", ["Done", "Idle"]),
    ("$.metadata.labels.tier", ["front"]),
    ("metadata.labels.tier", ["front"]),
    (".missing.deeper", []),
    (".status.conditions.type", []),
])
def test_kubectl_jsonpath(path: str, expected: list) -> None:
    assert find_results(parse_jsonpath(path), CONDITIONS) == expected


@pytest.mark.parametrize("path", [".a[", ".a[x]", ".a[?(@.b ~ 1)]", ".a.", ".a[?(@.b==nope)]", ".."])
def test_bad_jsonpath_is_rejected(path: str) -> None:
    with pytest.raises(JsonPathError, match="JSONPath"):
        parse_jsonpath(path)


def test_go_text_formats_like_fmt() -> None:
    assert [go_text(v) for v in (1.5, 1e6, 123456.0, 0.00001, None, 7, "s", False)] == [
        "1.5", "1e+06", "123456", "1e-05", "<nil>", "7", "s", "false"]


def built_in_row(kind: str, obj: dict) -> list:
    return build_table([obj], default_columns_for(kind), now=NOW)["rows"][0]["cells"]


def test_builtin_config_map_and_secret() -> None:
    created = {"name": "c", "creationTimestamp": stamp(timedelta(hours=3, minutes=2))}
    assert built_in_row("ConfigMap", {"metadata": created, "data": {"a": "1", "b": "2"},
                                      "binaryData": {"c": "AA=="}}) == ["c", 3, "3h2m"]
    assert built_in_row("Secret", {"metadata": created, "type": "helm.sh/release.v1",
                                   "data": {"release": "x"}}) == ["c", "helm.sh/release.v1", 1, "3h2m"]


def test_builtin_pod_and_deployment() -> None:
    pod = {"metadata": {"name": "p", "creationTimestamp": stamp(timedelta(days=2))},
           "spec": {"containers": [{}, {}], "nodeName": "n1"},
           "status": {"phase": "Running", "podIP": "10.0.0.1", "containerStatuses": [
               {"ready": True, "restartCount": 2}, {"ready": False, "restartCount": 1}]}}
    assert built_in_row("Pod", pod) == ["p", "1/2", "Running", 3, "2d", "10.0.0.1", "n1"]
    pod["metadata"]["deletionTimestamp"] = stamp(timedelta(0))
    assert built_in_row("Pod", pod)[2] == "Terminating"
    deployment = {"metadata": {"name": "d"}, "spec": {"replicas": 3},
                  "status": {"readyReplicas": 2, "updatedReplicas": 3}}
    assert built_in_row("Deployment", deployment) == ["d", "2/3", 3, 0, "<unknown>"]


def test_builtin_event_names_the_object() -> None:
    event = {"metadata": {"name": "e1"}, "type": "Warning", "reason": "HookFailed",
             "message": "hook x failed\n", "lastTimestamp": stamp(timedelta(seconds=42)),
             "involvedObject": {"kind": "Module", "name": "cert-manager"}}
    assert built_in_row("Event", event) == ["e1", "42s", "Warning", "HookFailed",
                                            "module/cert-manager", "hook x failed"]
    new_style = {"metadata": {"name": "e2"}, "type": "Normal", "reason": "Helm", "note": "ok",
                 "eventTime": stamp(timedelta(minutes=1)), "regarding": {"kind": "Pod", "name": "p"}}
    assert built_in_row("Event", new_style)[1:] == ["60s", "Normal", "Helm", "pod/p", "ok"]


def test_builtin_job_namespace_and_unknown_kind() -> None:
    job = {"metadata": {"name": "j"}, "spec": {"completions": 1},
           "status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}}
    assert built_in_row("Job", job)[:3] == ["j", "Complete", "1/1"]
    assert built_in_row("Namespace", {"metadata": {"name": "ns"}})[:2] == ["ns", "Active"]
    assert default_columns_for("Module") is None
