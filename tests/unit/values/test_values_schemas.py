"""Schemas.load: implicit additionalProperties, x-extend, x-required-for-helm, $ref, errors."""

from __future__ import annotations

import copy

import pytest

from addon_operator.values import Schemas, SchemaError


def test_config_schema_closes_every_object_level(schemas: Schemas) -> None:
    config = schemas.config
    assert config is not None
    assert config["additionalProperties"] is False
    assert config["properties"]["tls"]["additionalProperties"] is False
    assert config["properties"]["issuers"]["items"]["additionalProperties"] is False
    assert config["properties"]["resources"]["additionalProperties"] is False


def test_explicit_additional_properties_and_scalars_are_left_alone(schemas: Schemas) -> None:
    config = schemas.config
    assert config is not None
    assert config["properties"]["nodeSelector"]["additionalProperties"] == {"type": "string"}
    assert "additionalProperties" not in config["properties"]["replicas"]


def test_x_extend_takes_over_config_entries(schemas: Schemas) -> None:
    values = schemas.values
    assert values is not None
    props = values["properties"]
    # config properties are taken over, the values schema's own ones win
    assert props["email"]["default"] == "admin@example.com"
    assert props["replicas"]["minimum"] == 2
    assert "internal" in props
    assert values["required"] == ["email", "internal"]
    assert values["title"] == "Cert manager settings"       # only in the config schema
    assert values["description"] == "Effective values."      # the values schema's own
    assert values["x-doc-group"] == "internal"
    # definitions merged, so the config's $ref resolves inside the values schema
    assert props["renewBefore"]["pattern"] == "^[0-9]+[smh]$"
    assert props["annotations"]["patternProperties"] == {"^example\\.com/": {"type": "string"}}
    assert values["additionalProperties"] is False
    assert props["internal"]["additionalProperties"] is False


def test_x_extend_copies_every_x_key_and_pattern_properties() -> None:
    config = {"type": "object", "x-owner": "team-a", "patternProperties": {"^a": {}}}
    values = {"x-extend": {"schema": "config-values.yaml"}, "type": "object"}
    prepared = Schemas.load(config, values, owner="global").values
    assert prepared is not None
    assert prepared["x-owner"] == "team-a"
    assert prepared["patternProperties"] == {"^a": {}}  # upstream closes properties and items only


def test_values_schema_without_x_extend_is_not_merged(load) -> None:
    values = load("values.yaml")
    del values["x-extend"]
    prepared = Schemas.load(load("config-values.yaml"), values, owner="module m").values
    assert prepared is not None
    assert "email" not in prepared["properties"]
    assert prepared["required"] == ["internal"]


def test_helm_schema_merges_x_required_for_helm_on_each_level(schemas: Schemas) -> None:
    assert schemas.helm is not None and schemas.values is not None
    internal = schemas.helm["properties"]["internal"]
    assert internal["required"] == ["caBundle", "ports"]
    assert internal["properties"]["webhook"]["required"] == ["url"]
    assert "required" not in schemas.values["properties"]["internal"]


def test_refs_are_expanded(schemas: Schemas) -> None:
    assert schemas.values is not None
    webhook = schemas.values["properties"]["internal"]["properties"]["webhook"]
    assert webhook["properties"]["timeoutSeconds"] == {"type": "integer", "default": 30}


def test_missing_files_give_no_schemas(load) -> None:
    assert Schemas.load(None, None, owner="global") == Schemas()
    only_config = Schemas.load(load("config-values.yaml"), None, owner="global")
    assert only_config.values is None and only_config.helm is None
    only_values = Schemas.load(None, load("values.yaml"), owner="global")
    assert only_values.config is None
    assert only_values.values is not None and "email" not in only_values.values["properties"]


def test_inputs_are_not_modified(load) -> None:
    config, values = load("config-values.yaml"), load("values.yaml")
    before = copy.deepcopy((config, values))
    Schemas.load(config, values, owner="global")
    assert (config, values) == before


@pytest.mark.parametrize(
    ("config", "values", "expected"),
    [
        ("broken-type.yaml", None,
         "module certManager: openapi/config-values.yaml: invalid schema at properties.replicas.type"),
        (None, "broken-type.yaml",
         "module certManager: openapi/values.yaml: invalid schema at properties.replicas.type"),
        ("bad-ref.yaml", None,
         "module certManager: openapi/config-values.yaml: $ref '#/definitions/missing' points to nothing"),
        (None, "recursive-ref.yaml",
         "module certManager: openapi/values.yaml: recursive $ref '#/definitions/node' is not supported"),
    ],
)
def test_broken_schema_names_owner_and_file(load, config, values, expected) -> None:
    with pytest.raises(SchemaError) as err:
        Schemas.load(config and load(config), values and load(values), owner="module certManager")
    assert str(err.value).startswith(expected)


def test_schema_must_be_a_mapping() -> None:
    with pytest.raises(SchemaError, match="global: openapi/values.yaml: a schema must be a mapping, got list"):
        Schemas.load(None, [], owner="global")  # type: ignore[arg-type]


def test_bad_x_required_for_helm_is_a_schema_error() -> None:
    values = {"type": "object", "properties": {"a": {"type": "object", "x-required-for-helm": 3}}}
    with pytest.raises(SchemaError, match="x-required-for-helm at a must be a string or a list"):
        Schemas.load(None, values, owner="module m")
