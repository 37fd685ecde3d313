"""validate and Problem: paths, the rule broken in each message, order, OpenAPI touches."""

from __future__ import annotations

from addon_operator.values import Problem, Schemas, validate

OWNER = "module certManager"


def problems(doc, schemas: Schemas) -> list[str]:
    return [str(p) for p in validate(doc, schemas.config, owner=OWNER, root="settings")]


def test_valid_document_has_no_problems(schemas: Schemas) -> None:
    assert problems({"email": "a@b.c", "replicas": 2, "mode": None}, schemas) == []


def test_problem_str_names_owner_path_and_rule() -> None:
    problem = Problem(OWNER, "settings.replicas", "'x' is not of type 'integer'")
    assert str(problem) == "module certManager: settings.replicas: 'x' is not of type 'integer'"


def test_each_rule_is_named(schemas: Schemas) -> None:
    doc = {
        "replicas": "x",
        "mode": "tls",
        "renewBefore": "1d",
        "unknown": 1,
        "tls": {"enabled": "yes"},
        "issuers": [{"kind": "Issuer"}],
    }
    assert problems(doc, schemas) == [
        "module certManager: settings.email: required field 'email' is missing",
        "module certManager: settings.issuers[0].name: required field 'name' is missing",
        "module certManager: settings.mode: 'tls' is not one of the allowed values 'http01', 'dns01' (enum)",
        "module certManager: settings.renewBefore: '1d' does not match '^[0-9]+[smh]$' (pattern)",
        "module certManager: settings.replicas: 'x' is not of type 'integer'",
        "module certManager: settings.tls.enabled: 'yes' is not of type 'boolean'",
        "module certManager: settings.unknown: unknown field 'unknown' (additionalProperties: false)",
    ]


def test_minimum(schemas: Schemas) -> None:
    assert problems({"email": "e", "replicas": 0}, schemas) == [
        "module certManager: settings.replicas: 0 is less than the minimum of 1 (minimum)"
    ]


def test_additional_properties_schema_and_pattern_properties(schemas: Schemas) -> None:
    doc = {
        "email": "e",
        "nodeSelector": {"zone": 1},
        "annotations": {"example.com/a": "ok", "other": "x"},
    }
    assert problems(doc, schemas) == [
        "module certManager: settings.annotations.other: unknown field 'other' (additionalProperties: false)",
        "module certManager: settings.nodeSelector.zone: 1 is not of type 'string'",
    ]


def test_nullable_admits_null_and_says_so() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer", "nullable": True}}}
    assert validate({"a": None}, schema, owner="global", root="settings") == []
    assert [str(p) for p in validate({"a": "x"}, schema, owner="global", root="settings")] == [
        "global: settings.a: 'x' is not of type 'integer' or null"
    ]


def test_integer_accepts_whole_floats_but_not_booleans() -> None:
    schema = {"properties": {"n": {"type": "integer"}}}
    assert validate({"n": 2.0}, schema, owner="o", root="r") == []
    assert [p.message for p in validate({"n": True}, schema, owner="o", root="r")] == [
        "True is not of type 'integer'"
    ]


def test_odd_keys_and_empty_root_in_paths() -> None:
    schema = {"properties": {"a.b": {"type": "array", "items": {"type": "string"}}}}
    result = validate({"a.b": ["ok", 1]}, schema, owner="o", root="")
    assert [p.path for p in result] == ['["a.b"][1]']
    assert [p.path for p in validate(1, {"type": "object"}, owner="o", root="")] == ["(root)"]


def test_long_values_are_cut() -> None:
    result = validate({"s": "x" * 500}, {"properties": {"s": {"type": "integer"}}}, owner="o", root="v")
    assert len(result[0].message) < 100 and "..." in result[0].message


def test_no_schema_means_no_problems() -> None:
    assert validate({"anything": 1}, None, owner="o", root="settings") == []


def test_order_is_deterministic(schemas: Schemas) -> None:
    doc = {"zz": 1, "aa": 2, "replicas": "x"}
    first = validate(doc, schemas.config, owner=OWNER, root="settings")
    again = validate(dict(reversed(list(doc.items()))), schemas.config, owner=OWNER, root="settings")
    assert first == again
    assert [p.path for p in first] == sorted(p.path for p in first)
