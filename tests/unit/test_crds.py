"""The CRDs in crds/ are valid, structural, and match the API contract (docs/crd-reference.md)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
import yaml

CRDS = Path(__file__).resolve().parents[2] / "crds"
GROUP = "addon-operator.io"


def load(plural: str) -> dict[str, Any]:
    return yaml.safe_load((CRDS / f"{plural}.{GROUP}.yaml").read_text())


def version(crd: dict[str, Any]) -> dict[str, Any]:
    (only,) = crd["spec"]["versions"]
    return only


def schema(crd: dict[str, Any]) -> dict[str, Any]:
    return version(crd)["schema"]["openAPIV3Schema"]


def nodes(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node with its dotted path; stops below preserve-unknown-fields nodes."""
    yield path, node
    if node.get("x-kubernetes-preserve-unknown-fields"):
        return
    for name, child in node.get("properties", {}).items():
        yield from nodes(child, f"{path}.{name}")
    if "items" in node:
        yield from nodes(node["items"], f"{path}[]")


def strict(node: dict[str, Any]) -> dict[str, Any]:
    """The schema as JSON Schema, with the API server's pruning turned into rejection."""
    out = copy.deepcopy(node)
    for _, n in nodes(out):
        if n.get("type") == "object" and "properties" in n and not n.get(
            "x-kubernetes-preserve-unknown-fields"
        ):
            n["additionalProperties"] = False
    return out


def schema_at(root: dict[str, Any], json_path: str) -> dict[str, Any]:
    """Follow a printer-column JSONPath (`.a.b[?(@.x=="y")].c`) through the schema."""
    node = root
    for step in re.findall(r"\.(\w+)|\[\?\(@\.\w+==\"\w+\"\)\]", json_path):
        if not step:  # a filter: descend into the array items
            assert node["type"] == "array", json_path
            node = node["items"]
            continue
        node = node["properties"][step]
    return node


@pytest.mark.parametrize(
    ("plural", "kind", "singular", "short"),
    [("modules", "Module", "module", "mod"), ("globalconfigs", "GlobalConfig", "globalconfig", "gcfg")],
)
def test_names_scope_and_subresources(plural: str, kind: str, singular: str, short: str) -> None:
    crd = load(plural)
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"]["name"] == f"{plural}.{GROUP}"
    spec = crd["spec"]
    assert spec["group"] == GROUP
    assert spec["scope"] == "Cluster"
    assert spec["names"] == {
        "kind": kind,
        "listKind": f"{kind}List",
        "plural": plural,
        "singular": singular,
        "shortNames": [short],
        "categories": ["addons"],
    }
    v = version(crd)
    assert (v["name"], v["served"], v["storage"]) == ("v1alpha1", True, True)
    assert v["subresources"] == {"status": {}}


@pytest.mark.parametrize("plural", ["modules", "globalconfigs"])
def test_schema_is_structural(plural: str) -> None:
    root = schema(load(plural))
    preserved = []
    for path, node in nodes(root):
        assert "type" in node, f"{plural}: schema node {path or '<root>'} has no type"
        if "properties" in node:
            assert node["type"] == "object", path
        if "items" in node:
            assert node["type"] == "array", path
        if node["type"] == "array":
            assert "items" in node, f"{plural}: array {path} has no items"
        if node.get("x-kubernetes-preserve-unknown-fields"):
            preserved.append(path)
        if node.get("x-kubernetes-list-type") == "map":
            for key in node["x-kubernetes-list-map-keys"]:
                assert key in node["items"]["required"], f"{path}: map key {key} must be required"
    assert preserved == [".spec.settings"]
    assert set(root["properties"]) == {"apiVersion", "kind", "metadata", "spec", "status"}


def columns(crd: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    return [
        (c["name"], c["type"], c["jsonPath"], c.get("priority", 0))
        for c in version(crd)["additionalPrinterColumns"]
    ]


def test_module_printer_columns() -> None:
    assert columns(load("modules")) == [
        ("Enabled", "string", '.status.conditions[?(@.type=="Enabled")].status', 0),
        ("Ready", "string", '.status.conditions[?(@.type=="Ready")].status', 0),
        ("Phase", "string", ".status.phase", 0),
        ("Revision", "integer", ".status.release.revision", 0),
        ("Age", "date", ".metadata.creationTimestamp", 0),
        ("Message", "string", ".status.message", 1),
        ("Weight", "integer", ".status.weight", 1),
        ("Suspended", "boolean", ".spec.suspend", 1),
    ]


def test_globalconfig_printer_columns() -> None:
    assert columns(load("globalconfigs")) == [
        ("Ready", "string", '.status.conditions[?(@.type=="Ready")].status', 0),
        ("Modules", "integer", ".status.modules.enabled", 0),
        ("Failed", "integer", ".status.modules.failed", 0),
        ("Age", "date", ".metadata.creationTimestamp", 0),
    ]


@pytest.mark.parametrize("plural", ["modules", "globalconfigs"])
def test_printer_columns_point_at_schema_fields_of_the_same_type(plural: str) -> None:
    crd = load(plural)
    root = schema(crd)
    for name, typ, path, _ in columns(crd):
        if path == ".metadata.creationTimestamp":
            continue
        field = schema_at(root, path)
        assert field["type"] == typ, f"{plural} column {name}: {path} is {field['type']}"


def test_globalconfig_name_rule_sits_at_the_schema_root() -> None:
    root = schema(load("globalconfigs"))
    assert root["x-kubernetes-validations"] == [
        {
            "rule": "self.metadata.name == 'global'",
            "message": "GlobalConfig is a singleton and must be named 'global'",
        }
    ]
    for path, node in nodes(root):
        assert path == "" or "x-kubernetes-validations" not in node


def condition(kind: str, status: str = "True", reason: str = "Converged") -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "observedGeneration": 3,
        "lastTransitionTime": "2024-05-01T10:00:00Z",
        "reason": reason,
        "message": f"{kind} is {status}",
    }


def hook_status() -> dict[str, Any]:
    return {
        "name": "hooks/generate.sh",
        "bindings": ["beforeHelm"],
        "lastRun": "2024-05-01T10:00:00Z",
        "lastResult": "Succeeded",
        "message": "",
        "durationSeconds": 0.25,
        "runs": 4,
        "failures": 0,
    }


def sample_module() -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1alpha1",
        "kind": "Module",
        "metadata": {"name": "echo-server", "generation": 3},
        "spec": {"enabled": True, "suspend": False, "settings": {"replicas": 2, "any": {"x": [1]}}},
        "status": {
            "observedGeneration": 3,
            "phase": "Ready",
            "message": "release echo-server revision 2 deployed",
            "weight": 10,
            "conditions": [
                condition(t)
                for t in ("Ready", "Enabled", "SettingsValid", "HooksSucceeded", "HelmReleased")
            ],
            "release": {
                "name": "echo-server",
                "namespace": "addon-operator",
                "revision": 2,
                "status": "deployed",
                "chart": "echo-server",
                "chartVersion": "0.1.0",
                "checksum": "0f343b0931126a20f133d67c2b018a3b",
                "lastDeployed": "2024-05-01T10:00:00Z",
            },
            "hooks": [hook_status()],
        },
    }


def test_a_full_module_validates() -> None:
    jsonschema.validate(sample_module(), strict(schema(load("modules"))))


def test_a_full_globalconfig_validates() -> None:
    doc = {
        "apiVersion": f"{GROUP}/v1alpha1",
        "kind": "GlobalConfig",
        "metadata": {"name": "global"},
        "spec": {"settings": {"clusterName": "dev", "nested": {"free": "form"}}},
        "status": {
            "observedGeneration": 1,
            "phase": "Ready",
            "message": "5 modules, 5 enabled",
            "conditions": [condition("Ready"), condition("Stalled", "False", "Converged")],
            "hooks": [hook_status()],
            "modules": {"total": 5, "enabled": 4, "ready": 4, "failed": 0},
        },
    }
    jsonschema.validate(doc, strict(schema(load("globalconfigs"))))


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda m: m["spec"].update(enabled="yes"), ["spec", "enabled"]),
        (lambda m: m["spec"].update(settings=[1]), ["spec", "settings"]),
        (lambda m: m["spec"].update(replicas=2), ["spec"]),
        (lambda m: m["status"].update(phase="Deployed"), ["status", "phase"]),
        (lambda m: m["status"]["conditions"][0].update(status="yes"), ["status", "conditions", 0, "status"]),
        (lambda m: m["status"]["conditions"][0].pop("reason"), ["status", "conditions", 0]),
        (lambda m: m["status"]["conditions"][0].update(reason="not a reason"), ["status", "conditions", 0, "reason"]),
        (lambda m: m["status"]["hooks"][0].update(lastResult="OK"), ["status", "hooks", 0, "lastResult"]),
        (lambda m: m["status"]["release"].update(revision="2"), ["status", "release", "revision"]),
    ],
)
def test_bad_modules_are_rejected_at_the_right_path(mutate: Any, where: list[Any]) -> None:
    doc = sample_module()
    mutate(doc)
    errors = list(jsonschema.Draft202012Validator(strict(schema(load("modules")))).iter_errors(doc))
    assert [list(e.absolute_path) for e in errors] == [where]
