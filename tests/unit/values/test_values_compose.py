"""compose and friends: each layer and its precedence, the hook/Helm documents, the checks."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from addon_operator.values import (
    PatchError,
    Schemas,
    check_helm_values,
    compose,
    config_values,
    helm_values,
    validate_settings,
    validate_values,
)

KEY = "certManager"
OWNER = "module certManager"


@pytest.fixture
def static(load: Callable[[str], Any]) -> dict:
    return load("static-values.yaml")


SETTINGS = {"replicas": 4, "issuers": [{"name": "only"}], "tls": {"enabled": False}, "mode": "dns01"}


def test_all_layers_in_order(schemas: Schemas, static: dict) -> None:
    patches = [
        {"op": "add", "path": "/certManager/internal/caBundle", "value": "CA"},
        {"op": "add", "path": "/certManager/replicas", "value": 7},
        {"op": "remove", "path": "/certManager/missing"},
    ]
    assert compose(static, schemas, SETTINGS, patches, KEY) == {
        "email": "static@example.com",                   # static beats config defaults
        "replicas": 7,                                   # hook patch beats settings
        "mode": "dns01",                                 # from settings
        "issuers": [{"name": "only", "kind": "ClusterIssuer"}],  # list replaced, then defaulted
        "tls": {"secretName": "static-tls", "enabled": False},   # maps merge, settings win
        "resources": {"cpu": "100m"},                    # config-schema default
        "internal": {"ports": [443, 8443], "caBundle": "CA"},    # static kept over values default
    }


def test_settings_override_static(schemas: Schemas, static: dict) -> None:
    assert compose(static, schemas, {"replicas": 4}, [], KEY)["replicas"] == 4
    assert compose(static, schemas, None, [], KEY)["replicas"] == 3


def test_config_defaults_come_before_values_defaults(schemas: Schemas) -> None:
    # replicas: config default 1, values-schema default 2 → the earlier layer fills it first
    values = compose({}, schemas, None, [], KEY)
    assert values["replicas"] == 1
    assert values["internal"] == {"ports": [80]}  # values-schema default object, filled
    assert values["email"] == "admin@example.com"


def test_config_defaults_fill_items_of_static_lists(schemas: Schemas, static: dict) -> None:
    issuers = compose(static, schemas, None, [], KEY)["issuers"]
    assert issuers == [{"name": "letsencrypt", "kind": "ClusterIssuer"}, {"name": "internal", "kind": "Issuer"}]


def test_patches_apply_to_the_key_document_without_touching_inputs(schemas: Schemas, static: dict) -> None:
    settings = {"tls": {"enabled": True}}
    compose(static, schemas, settings, [{"op": "add", "path": "/certManager/tls/enabled", "value": False}], KEY)
    assert settings == {"tls": {"enabled": True}}
    assert static["tls"] == {"secretName": "static-tls"}


def test_removing_the_whole_key_leaves_empty_values(schemas: Schemas) -> None:
    assert compose({}, schemas, None, [{"op": "remove", "path": "/certManager"}], KEY) == {}


def test_stored_add_under_a_vanished_parent_fails(schemas: Schemas) -> None:
    with pytest.raises(PatchError, match="path '/certManager/probes' does not exist"):
        compose({}, schemas, None, [{"op": "add", "path": "/certManager/probes/period", "value": 5}], KEY)


def test_global_store_without_schemas() -> None:
    patches = [{"op": "add", "path": "/global/discovery", "value": {"clusterDomain": "x"}}]
    static = {"project": "demo", "list": [1, 2]}
    assert compose(static, Schemas(), {"list": [3]}, patches, "global") == {
        "project": "demo", "list": [3], "discovery": {"clusterDomain": "x"}
    }


def test_config_values_are_the_raw_settings() -> None:
    settings = {"replicas": 4, "tls": {"enabled": False}}
    result = config_values(settings)
    assert result == settings and result is not settings
    result["tls"]["enabled"] = True
    assert settings["tls"]["enabled"] is False
    assert config_values(None) == {}


def test_helm_values_document() -> None:
    global_values = {"project": "demo"}
    module_values = {"replicas": 2}
    doc = helm_values(global_values, KEY, module_values)
    assert doc == {"global": {"project": "demo"}, "certManager": {"replicas": 2}}
    doc["global"]["project"] = "changed"
    assert global_values == {"project": "demo"}


def test_settings_are_validated_with_config_defaults(schemas: Schemas) -> None:
    # `email` is required, but its config default satisfies it (as upstream validates)
    assert validate_settings({}, schemas, OWNER) == []
    assert validate_settings(None, schemas, OWNER) == []
    assert [str(p) for p in validate_settings({"replicas": "x", "internal": {}}, schemas, OWNER)] == [
        "module certManager: settings.internal: unknown field 'internal'",
        "module certManager: settings.replicas: must be of type integer",
    ]


def test_values_are_validated_against_the_values_schema(schemas: Schemas, static: dict) -> None:
    values = compose(static, schemas, SETTINGS, [], KEY)
    assert validate_values(values, schemas, OWNER, key=KEY) == []
    values["internal"]["bogus"] = 1
    values["replicas"] = 1  # the values schema raises the minimum to 2
    assert [str(p) for p in validate_values(values, schemas, OWNER, key=KEY)] == [
        "module certManager: values.certManager.internal.bogus: unknown field 'bogus'",
        "module certManager: values.certManager.replicas: must be >= 2",
    ]
    assert "values.x" in [p.path for p in validate_values({"x": 1}, schemas, OWNER)]


def test_helm_check_requires_x_required_for_helm(schemas: Schemas, static: dict) -> None:
    values = compose(static, schemas, SETTINGS, [], KEY)
    assert validate_values(values, schemas, OWNER, key=KEY) == []
    assert [str(p) for p in check_helm_values(values, schemas, OWNER, key=KEY)] == [
        "module certManager: values.certManager.internal.caBundle: missing required field "
        "'caBundle' (x-required-for-helm)"
    ]
    patched = compose(static, schemas, SETTINGS,
                      [{"op": "add", "path": "/certManager/internal/caBundle", "value": "CA"}], KEY)
    assert check_helm_values(patched, schemas, OWNER, key=KEY) == []
    patched["internal"]["webhook"] = {}
    assert [p.path for p in check_helm_values(patched, schemas, OWNER, key=KEY)] == [
        "values.certManager.internal.webhook.url"
    ]
