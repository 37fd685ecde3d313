"""apply_defaults: fill missing keys only, through properties and array items."""

from __future__ import annotations

import copy

from addon_operator.values import Schemas, apply_defaults


def test_fills_missing_keys_and_keeps_present_ones(schemas: Schemas) -> None:
    result = apply_defaults({"replicas": 5}, schemas.config)
    assert result["replicas"] == 5
    assert result["email"] == "admin@example.com"


def test_object_with_own_default_is_created_and_filled(schemas: Schemas) -> None:
    result = apply_defaults({}, schemas.config)
    assert result["resources"] == {"cpu": "100m"}


def test_missing_object_without_default_is_not_created(schemas: Schemas) -> None:
    result = apply_defaults({}, schemas.config)
    assert "probes" not in result and "tls" not in result


def test_present_object_gets_its_properties_defaults(schemas: Schemas) -> None:
    result = apply_defaults({"probes": {}, "tls": {"secretName": "x"}}, schemas.config)
    assert result["probes"] == {"period": 10}
    assert result["tls"] == {"secretName": "x", "enabled": True}


def test_array_items_get_defaults(schemas: Schemas) -> None:
    result = apply_defaults(
        {"issuers": [{"name": "a"}, {"name": "b", "kind": "Issuer"}]}, schemas.config
    )
    assert result["issuers"] == [
        {"name": "a", "kind": "ClusterIssuer"},
        {"name": "b", "kind": "Issuer"},
    ]


def test_defaults_through_expanded_refs(schemas: Schemas) -> None:
    result = apply_defaults({"internal": {"webhook": {}}}, schemas.values)
    assert result["internal"]["webhook"] == {"timeoutSeconds": 30}


def test_null_default_and_mismatched_types_are_ignored() -> None:
    schema = {"properties": {"a": {"default": None}, "b": {"properties": {"c": {"default": 1}}}}}
    assert apply_defaults({"b": "scalar"}, schema) == {"b": "scalar"}


def test_no_schema_returns_an_equal_copy() -> None:
    obj = {"a": [1]}
    result = apply_defaults(obj, None)
    assert result == obj and result is not obj


def test_input_and_schema_are_not_aliased(schemas: Schemas) -> None:
    obj: dict = {}
    before = copy.deepcopy(schemas.config)
    result = apply_defaults(obj, schemas.config)
    result["resources"]["cpu"] = "changed"
    assert obj == {}
    assert schemas.config == before
