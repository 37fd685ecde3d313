"""validate and Problem: paths, the rule broken in each message, order, OpenAPI touches.

(That no message ever quotes the checked value: test_values_messages.py.)"""

from __future__ import annotations

from addon_operator.values import Problem, Schemas, validate

OWNER = "module certManager"


def problems(doc, schemas: Schemas) -> list[str]:
    return [str(p) for p in validate(doc, schemas.config, owner=OWNER, root="settings")]


def test_valid_document_has_no_problems(schemas: Schemas) -> None:
    assert problems({"email": "a@b.c", "replicas": 2, "mode": None}, schemas) == []


def test_problem_str_names_owner_path_and_rule() -> None:
    problem = Problem(OWNER, "settings.replicas", "must be of type integer")
    assert str(problem) == "module certManager: settings.replicas: must be of type integer"


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
        "module certManager: settings.email: missing required field 'email'",
        "module certManager: settings.issuers[0].name: missing required field 'name'",
        "module certManager: settings.mode: must be one of the allowed values 'http01', 'dns01' or null",
        "module certManager: settings.renewBefore: must match pattern '^[0-9]+[smh]$'",
        "module certManager: settings.replicas: must be of type integer",
        "module certManager: settings.tls.enabled: must be of type boolean",
        "module certManager: settings.unknown: unknown field 'unknown'",
    ]


def test_minimum(schemas: Schemas) -> None:
    assert problems({"email": "e", "replicas": 0}, schemas) == [
        "module certManager: settings.replicas: must be >= 1"
    ]


def test_additional_properties_schema_and_pattern_properties(schemas: Schemas) -> None:
    doc = {
        "email": "e",
        "nodeSelector": {"zone": 1},
        "annotations": {"example.com/a": "ok", "other": "x"},
    }
    assert problems(doc, schemas) == [
        "module certManager: settings.annotations.other: unknown field 'other'",
        "module certManager: settings.nodeSelector.zone: must be of type string",
    ]


def test_nullable_admits_null_and_says_so() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer", "nullable": True}}}
    assert validate({"a": None}, schema, owner="global", root="settings") == []
    assert [str(p) for p in validate({"a": "x"}, schema, owner="global", root="settings")] == [
        "global: settings.a: must be of type integer or null"
    ]


def test_integer_accepts_whole_floats_but_not_booleans() -> None:
    schema = {"properties": {"n": {"type": "integer"}}}
    assert validate({"n": 2.0}, schema, owner="o", root="r") == []
    assert [p.message for p in validate({"n": True}, schema, owner="o", root="r")] == [
        "must be of type integer"
    ]


def test_odd_keys_and_empty_root_in_paths() -> None:
    schema = {"properties": {"a.b": {"type": "array", "items": {"type": "string"}}}}
    result = validate({"a.b": ["ok", 1]}, schema, owner="o", root="")
    assert [p.path for p in result] == ['["a.b"][1]']
    assert [p.path for p in validate(1, {"type": "object"}, owner="o", root="")] == ["(root)"]


def test_long_rules_are_cut() -> None:
    schema = {"properties": {"s": {"enum": [f"value-{i}" for i in range(100)]}}}
    result = validate({"s": "x"}, schema, owner="o", root="v")
    assert len(result[0].message) == 200 and result[0].message.endswith("...")
    assert result[0].message.startswith("must be one of the allowed values 'value-0', 'value-1'")


def test_no_schema_means_no_problems() -> None:
    assert validate({"anything": 1}, None, owner="o", root="settings") == []


def test_order_is_deterministic(schemas: Schemas) -> None:
    doc = {"zz": 1, "aa": 2, "replicas": "x"}
    first = validate(doc, schemas.config, owner=OWNER, root="settings")
    again = validate(dict(reversed(list(doc.items()))), schemas.config, owner=OWNER, root="settings")
    assert first == again
    assert [p.path for p in first] == sorted(p.path for p in first)
