"""Structural-schema admission: pruning, defaulting and API-server-style validation messages."""

from __future__ import annotations

import copy

import pytest

from kube_sandbox.schema import admit, prune, validate

# The shape of the project's Module CRD plus a few constrained fields to exercise every rule.
SCHEMA = {
    "type": "object",
    "properties": {
        "metadata": {"type": "object", "properties": {
            "name": {"type": "string", "maxLength": 12, "pattern": "^[a-z-]+$"}}},
        "spec": {
            "type": "object",
            "required": ["mode"],
            "properties": {
                "enabled": {"type": "boolean"},
                "suspend": {"type": "boolean", "default": False},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 5},
                "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": True,
                          "multipleOf": 0.5},
                "name": {"type": "string", "minLength": 2, "maxLength": 4},
                "port": {"x-kubernetes-int-or-string": True},
                "at": {"type": "string", "format": "date-time"},
                "note": {"type": "string", "nullable": True},
                "settings": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                             "properties": {"level": {"type": "integer", "default": 1}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "tags": {"type": "array", "maxItems": 2, "minItems": 1, "uniqueItems": True,
                         "items": {"type": "string"}},
                "targets": {"type": "array", "items": {
                    "type": "object",
                    "required": ["host"],
                    "properties": {"host": {"type": "string"},
                                   "tls": {"type": "object", "default": {},
                                           "properties": {"enabled": {"type": "boolean",
                                                                      "default": True}}}},
                }},
                "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                             "properties": {"spec": {"type": "object"}}},
            },
            "x-kubernetes-validations": [{"rule": "self.mode != 'c'", "message": "no c"}],
        },
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


def module(**spec: object) -> dict:
    return {"apiVersion": "addon-operator.io/v1alpha1", "kind": "Module",
            "metadata": {"name": "cert-manager"}, "spec": {"mode": "a", **spec}}


def errors_for(**spec: object) -> list[str]:
    return admit(module(**spec), SCHEMA)[1]


def test_valid_object_is_admitted_with_defaults_and_input_untouched() -> None:
    obj = module(enabled=True, targets=[{"host": "a"}], settings={"x": {"y": 1}})
    pristine = copy.deepcopy(obj)
    admitted, errors = admit(obj, SCHEMA)
    assert errors == []
    assert obj == pristine
    assert admitted["spec"]["suspend"] is False
    assert admitted["spec"]["settings"] == {"x": {"y": 1}, "level": 1}
    # defaults apply inside array items and inside defaults themselves
    assert admitted["spec"]["targets"] == [{"host": "a", "tls": {"enabled": True}}]


def test_unknown_fields_are_pruned_except_resource_fields_and_preserved_subtrees() -> None:
    obj = module(bogus=1, settings={"free": "form"}, labels={"a": "b"},
                 targets=[{"host": "h", "extra": 1}],
                 template={"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                           "spec": {"x": 1}, "junk": True})
    obj["topLevel"] = 1
    obj["metadata"]["madeUp"] = "x"
    admitted, removed = prune(obj, SCHEMA)
    assert removed == ["metadata.madeUp", "spec.bogus", "spec.targets[0].extra",
                       "spec.template.spec.x", "spec.template.junk", "topLevel"]
    assert "bogus" not in admitted["spec"] and "topLevel" not in admitted
    assert admitted["apiVersion"] == "addon-operator.io/v1alpha1"
    assert admitted["metadata"] == {"name": "cert-manager"}
    assert admitted["spec"]["settings"] == {"free": "form"}
    assert admitted["spec"]["labels"] == {"a": "b"}
    assert admitted["spec"]["template"] == {"apiVersion": "v1", "kind": "Pod",
                                            "metadata": {"name": "p"}, "spec": {}}


def test_null_handling() -> None:
    admitted, errors = admit(module(enabled=None, suspend=None, note=None), SCHEMA)
    assert errors == []
    assert "enabled" not in admitted["spec"]  # non-nullable null without default: dropped
    assert admitted["spec"]["suspend"] is False  # non-nullable null with default: defaulted
    assert admitted["spec"]["note"] is None  # nullable: kept
    assert errors_for(tags=[None]) == [
        'spec.tags[0]: Invalid value: "null": spec.tags[0] in body must be of type string: "null"']


@pytest.mark.parametrize(("spec", "message"), [
    ({"enabled": "yes"},
     'spec.enabled: Invalid value: "string": spec.enabled in body must be of type boolean: "string"'),
    ({"replicas": 1.5},
     'spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"'),
    ({"replicas": True},
     'spec.replicas: Invalid value: "boolean": spec.replicas in body must be of type integer: "boolean"'),
    ({"ratio": "1"},
     'spec.ratio: Invalid value: "string": spec.ratio in body must be of type number: "string"'),
    ({"settings": []},
     'spec.settings: Invalid value: "array": spec.settings in body must be of type object: "array"'),
    ({"mode": "x"}, 'spec.mode: Unsupported value: "x": supported values: "a", "b"'),
    ({"replicas": 0}, "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1"),
    ({"replicas": 9}, "spec.replicas: Invalid value: 9: spec.replicas in body should be less than or equal to 5"),
    ({"ratio": 0}, "spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0"),
    ({"ratio": 0.7}, "spec.ratio: Invalid value: 0.7: spec.ratio in body should be a multiple of 0.5"),
    ({"name": "x"}, 'spec.name: Invalid value: "x": spec.name in body should be at least 2 chars long'),
    ({"name": "toolong"}, "spec.name: Too long: may not be more than 4 bytes"),
    ({"port": True},
     'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"'),
    ({"at": "yesterday"},
     'spec.at: Invalid value: "yesterday": spec.at in body must be of type date-time: "yesterday"'),
    ({"labels": {"a": 1}},
     'spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"'),
    ({"tags": ["a", "b", "c"]}, "spec.tags: Too many: 3: must have at most 2 items"),
    ({"tags": []}, "spec.tags: Invalid value: []: spec.tags in body should have at least 1 items"),
    ({"tags": ["a", "a"]},
     'spec.tags: Invalid value: ["a","a"]: spec.tags in body shouldn\'t contain duplicates'),
    ({"targets": [{"host": "a"}, {}]}, "spec.targets[1].host: Required value"),
    ({"targets": [{"host": 1}]},
     'spec.targets[0].host: Invalid value: "integer": spec.targets[0].host in body must be of type string: "integer"'),
])
def test_validation_messages(spec: dict, message: str) -> None:
    assert errors_for(**spec) == [message]


def test_required_field_and_several_errors_at_once() -> None:
    obj = module(enabled="no")
    del obj["spec"]["mode"]
    assert admit(obj, SCHEMA)[1] == [
        "spec.mode: Required value",
        'spec.enabled: Invalid value: "string": spec.enabled in body must be of type boolean: "string"',
    ]


def test_valid_edge_values() -> None:
    assert errors_for(port=8080) == []
    assert errors_for(port="http") == []
    assert errors_for(replicas=3.0) == []  # whole numbers are integers, as Go decodes JSON
    assert errors_for(ratio=2) == []
    assert errors_for(at="2025-01-02T03:04:05.123+02:00") == []
    assert errors_for(at="2025-01-02T03:04:05Z") == []


def test_metadata_name_rules_apply_but_other_metadata_is_not_validated() -> None:
    obj = module()
    obj["metadata"] = {"name": "Not_Valid_Name!", "labels": {"a": "b"}}
    assert admit(obj, SCHEMA)[1] == [
        "metadata.name: Too long: may not be more than 12 bytes",
        "metadata.name: Invalid value: \"Not_Valid_Name!\": metadata.name in body should match '^[a-z-]+$'",
    ]


def test_cel_rules_are_ignored_and_never_break() -> None:
    assert errors_for(mode="b") == []


def test_combinators() -> None:
    schema = {"type": "object", "properties": {
        "v": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        "w": {"oneOf": [{"minimum": 0}, {"maximum": 10}]},
        "x": {"allOf": [{"minimum": 1}], "not": {"enum": [5]}},
    }}
    assert validate({"v": 1, "w": 20, "x": 2}, schema) == []
    assert validate({"v": True}, schema) == [
        "v: Invalid value: true: v in body must validate at least one schema (anyOf)"]
    assert validate({"w": 5}, schema) == [
        "w: Invalid value: 5: w in body must validate one and only one schema (oneOf)"]
    assert validate({"x": 0}, schema) == [
        "x: Invalid value: 0: x in body should be greater than or equal to 1"]
    assert validate({"x": 5}, schema) == [
        "x: Invalid value: 5: x in body must not validate the schema (not)"]


def test_unparsable_pattern_does_not_reject_objects() -> None:
    assert validate("abc", {"type": "string", "pattern": "(?<=x"}) == []
