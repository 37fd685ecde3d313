"""No validation message ever quotes the value it checked: it names the path and the rule.

Settings and values hold passwords and tokens, and these messages end up in the Module status,
Events and the operator's log. Each validator kind is checked with distinctive values
(SECRET_NUMBER, SECRET_TEXT) that must not appear in the path or the message; the settings,
values and helm checks of `compose.py` and the hook values patch messages are checked too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from addon_operator.values import (
    PatchError,
    Schemas,
    apply_patch,
    check_global_patch,
    check_helm_values,
    check_module_patch,
    compose,
    parse_patch_stream,
    validate,
    validate_settings,
    validate_values,
)

SECRET_NUMBER = 987654321123
SECRET_TEXT = "s3cr3t-value"
OWNER = "module vault"


def assert_no_value(text: str) -> None:
    for leaked in (str(SECRET_NUMBER), SECRET_TEXT, "s3cr3t"):
        assert leaked not in text, f"the checked value leaked into {text!r}"


def problems(properties: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    schema = {"type": "object", "properties": properties}
    found = [str(p) for p in validate(settings, schema, owner=OWNER, root="settings")]
    for line in found:
        assert_no_value(line)
    return found


STRING = {"type": "string"}

CASES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    # (id, properties, settings, the one problem expected)
    ("type", {"password": STRING}, {"password": SECRET_NUMBER},
     "settings.password: must be of type string"),
    ("type-boolean", {"enabled": {"type": "boolean"}}, {"enabled": SECRET_TEXT},
     "settings.enabled: must be of type boolean"),
    ("type-nullable", {"port": {"type": "integer", "nullable": True}}, {"port": SECRET_TEXT},
     "settings.port: must be of type integer or null"),
    ("type-list", {"token": {"type": ["string", "integer"]}}, {"token": [SECRET_TEXT]},
     "settings.token: must be of type string or integer"),
    ("enum", {"mode": {"type": "string", "enum": ["plain", "upper"]}}, {"mode": SECRET_TEXT},
     "settings.mode: must be one of the allowed values 'plain', 'upper'"),
    ("enum-numbers", {"level": {"enum": [1, 2, None]}}, {"level": SECRET_NUMBER},
     "settings.level: must be one of the allowed values 1, 2, null"),
    ("pattern", {"token": {"type": "string", "pattern": "^[a-f0-9]{32}$"}}, {"token": SECRET_TEXT},
     "settings.token: must match pattern '^[a-f0-9]{32}$'"),
    ("format", {"address": {"type": "string", "format": "ipv4"}}, {"address": SECRET_TEXT},
     "settings.address: must be a valid ipv4 (format)"),
    ("minLength", {"password": {"type": "string", "minLength": 16}}, {"password": SECRET_TEXT},
     "settings.password: must be at least 16 characters long"),
    ("minLength-1", {"password": {"type": "string", "minLength": 1}}, {"password": ""},
     "settings.password: must be at least 1 character long"),
    ("maxLength", {"pin": {"type": "string", "maxLength": 4}}, {"pin": SECRET_TEXT},
     "settings.pin: must be at most 4 characters long"),
    ("minimum", {"replicas": {"type": "integer", "minimum": 1}}, {"replicas": -SECRET_NUMBER},
     "settings.replicas: must be >= 1"),
    ("exclusiveMinimum", {"ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": True}},
     {"ratio": -SECRET_NUMBER}, "settings.ratio: must be > 0"),
    ("maximum", {"replicas": {"type": "integer", "maximum": 10}}, {"replicas": SECRET_NUMBER},
     "settings.replicas: must be <= 10"),
    ("exclusiveMaximum", {"ratio": {"type": "number", "maximum": 1, "exclusiveMaximum": True}},
     {"ratio": SECRET_NUMBER}, "settings.ratio: must be < 1"),
    ("multipleOf", {"size": {"type": "integer", "multipleOf": 1000}}, {"size": SECRET_NUMBER},
     "settings.size: must be a multiple of 1000"),
    ("required-nested",
     {"auth": {"type": "object", "required": ["user"],
               "properties": {"user": STRING, "password": STRING}}},
     {"auth": {"password": SECRET_TEXT}},
     "settings.auth.user: missing required field 'user'"),
    ("additionalProperties-false",
     {"auth": {"type": "object", "additionalProperties": False, "properties": {"user": STRING}}},
     {"auth": {"user": "admin", "bogus": SECRET_TEXT}},
     "settings.auth.bogus: unknown field 'bogus'"),
    ("additionalProperties-schema",
     {"labels": {"type": "object", "additionalProperties": STRING}},
     {"labels": {"team": SECRET_NUMBER}},
     "settings.labels.team: must be of type string"),
    ("patternProperties",
     {"annotations": {"type": "object", "patternProperties": {"^example\\.com/": STRING}}},
     {"annotations": {"example.com/key": SECRET_NUMBER}},
     'settings.annotations["example.com/key"]: must be of type string'),
    ("array-items",
     {"tokens": {"type": "array", "items": {"type": "string", "minLength": 20}}},
     {"tokens": ["a-long-enough-token-value", SECRET_TEXT]},
     "settings.tokens[1]: must be at least 20 characters long"),
    ("array-items-objects",
     {"users": {"type": "array", "items": {"type": "object",
                                           "properties": {"password": STRING}}}},
     {"users": [{"password": "fine"}, {"password": SECRET_NUMBER}]},
     "settings.users[1].password: must be of type string"),
    ("minItems", {"keys": {"type": "array", "minItems": 2}}, {"keys": [SECRET_TEXT]},
     "settings.keys: must have at least 2 items"),
    ("maxItems", {"keys": {"type": "array", "maxItems": 1}}, {"keys": [SECRET_TEXT, "b"]},
     "settings.keys: must have at most 1 item"),
    ("uniqueItems", {"keys": {"type": "array", "uniqueItems": True}},
     {"keys": [SECRET_TEXT, SECRET_TEXT]},
     "settings.keys: must not contain duplicate items (uniqueItems)"),
    ("additionalItems",
     {"pair": {"type": "array", "items": [STRING, STRING], "additionalItems": False}},
     {"pair": ["a", "b", SECRET_TEXT]},
     "settings.pair: must have at most 2 items (additionalItems: false)"),
    ("minProperties", {"auth": {"type": "object", "minProperties": 2}}, {"auth": {"k": SECRET_TEXT}},
     "settings.auth: must have at least 2 fields"),
    ("maxProperties", {"auth": {"type": "object", "maxProperties": 1}},
     {"auth": {"a": SECRET_TEXT, "b": SECRET_NUMBER}},
     "settings.auth: must have at most 1 field"),
    ("dependencies", {"tls": {"type": "object", "dependencies": {"key": ["cert"]}}},
     {"tls": {"key": SECRET_TEXT}},
     "settings.tls.key: requires field 'cert' (dependencies)"),
    ("oneOf-none", {"secret": {"oneOf": [{"type": "integer"}, {"type": "boolean"}]}},
     {"secret": SECRET_TEXT},
     "settings.secret: must match exactly one of the 2 oneOf schemas (none does)"),
    ("oneOf-several", {"secret": {"oneOf": [{"type": "number"}, {"type": "integer"}]}},
     {"secret": SECRET_NUMBER},
     "settings.secret: must match exactly one of the 2 oneOf schemas (more than one does)"),
    ("anyOf", {"secret": {"anyOf": [{"type": "integer"}, {"type": "boolean"}]}},
     {"secret": SECRET_TEXT},
     "settings.secret: must match at least one of the 2 anyOf schemas"),
    ("allOf", {"secret": {"allOf": [STRING, {"minLength": 40}]}}, {"secret": SECRET_TEXT},
     "settings.secret: must be at least 40 characters long"),
    ("not", {"secret": {"not": STRING}}, {"secret": SECRET_TEXT},
     "settings.secret: must not match the schema given in 'not'"),
]


@pytest.mark.parametrize(("properties", "settings", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_each_rule_names_the_path_and_the_rule_but_not_the_value(
    properties: dict[str, Any], settings: dict[str, Any], expected: str
) -> None:
    assert problems(properties, settings) == [f"{OWNER}: {expected}"]


def test_long_values_are_not_quoted_even_in_part() -> None:
    secret = SECRET_TEXT * 40
    found = problems({"password": {"type": "integer"}}, {"password": secret})
    assert found == [f"{OWNER}: settings.password: must be of type integer"]


def test_field_names_are_named_they_are_not_values() -> None:
    found = problems({"auth": {"type": "object", "additionalProperties": False}},
                     {"auth": {"my-token": SECRET_TEXT}})
    assert found == [f"{OWNER}: settings.auth.my-token: unknown field 'my-token'"]


def test_a_whole_document_of_wrong_types_reports_every_path() -> None:
    schema = {"type": "object", "required": ["password"], "properties": {
        "password": STRING, "replicas": {"type": "integer", "minimum": 1}}}
    found = validate({"replicas": SECRET_TEXT, "extra": SECRET_NUMBER},
                     schema, owner=OWNER, root="settings")
    assert [(p.path, p.message) for p in found] == [
        ("settings.password", "missing required field 'password'"),
        ("settings.replicas", "must be of type integer"),
    ]
    assert validate(SECRET_TEXT, schema, owner=OWNER, root="settings")[0].message == \
        "must be of type object"


# --- the settings, values and helm checks ----------------------------------------------------

CONFIG_SCHEMA = {"type": "object", "properties": {
    "password": {"type": "string", "minLength": 8},
    "replicas": {"type": "integer", "minimum": 1, "default": 1},
}}
VALUES_SCHEMA = {
    "x-extend": {"schema": "config-values.yaml"}, "type": "object",
    "properties": {"internal": {"type": "object", "x-required-for-helm": ["token"],
                                "default": {},
                                "properties": {"token": {"type": "string"}}}},
}


@pytest.fixture
def vault() -> Schemas:
    return Schemas.load(CONFIG_SCHEMA, VALUES_SCHEMA, owner=OWNER)


def test_settings_check(vault: Schemas) -> None:
    found = validate_settings({"password": SECRET_NUMBER, "replicas": 0, "bogus": SECRET_TEXT},
                              vault, OWNER)
    assert [str(p) for p in found] == [
        f"{OWNER}: settings.bogus: unknown field 'bogus'",
        f"{OWNER}: settings.password: must be of type string",
        f"{OWNER}: settings.replicas: must be >= 1",
    ]


def test_values_check_of_a_hook_patch_that_breaks_the_schema(vault: Schemas) -> None:
    patch = [{"op": "add", "path": "/vault/internal/token", "value": SECRET_NUMBER}]
    values = compose({}, vault, {"password": "long-enough"}, patch, "vault")
    found = validate_values(values, vault, OWNER, key="vault")
    assert [str(p) for p in found] == [
        f"{OWNER}: values.vault.internal.token: must be of type string"]


def test_helm_check_names_x_required_for_helm(vault: Schemas) -> None:
    values = compose({}, vault, {"password": SECRET_TEXT}, [], "vault")
    found = check_helm_values(values, vault, OWNER, key="vault")
    assert [str(p) for p in found] == [
        f"{OWNER}: values.vault.internal.token: missing required field 'token' "
        "(x-required-for-helm)"]


# --- hook values patches ---------------------------------------------------------------------

def add(path: str, value: Any) -> dict[str, Any]:
    return {"op": "add", "path": path, "value": value}


def patch_error(call: Any) -> str:
    with pytest.raises(PatchError) as caught:
        call()
    text = str(caught.value)
    assert_no_value(text)
    return text


def test_patch_messages_name_the_operation_and_path_not_the_value() -> None:
    doc = {"vault": {"password": SECRET_TEXT}}
    assert patch_error(lambda: apply_patch(doc, [add("/vault/missing/x", SECRET_TEXT)], strict=True)) \
        == "cannot apply {\"op\": \"add\", \"path\": \"/vault/missing/x\"}: path " \
           "'/vault/missing' does not exist"
    test_op = {"op": "test", "path": "/vault/password", "value": "guess"}
    assert patch_error(lambda: apply_patch(doc, [test_op], strict=True)).startswith(
        "test failed: '/vault/password' does not hold the value the operation expects")
    assert "outside the module's values" in patch_error(
        lambda: check_module_patch([add("/other/password", SECRET_TEXT)], "vault"))
    assert "unsupported patch operation 'replace'" in patch_error(lambda: check_module_patch(
        [{"op": "replace", "path": "/vault/password", "value": SECRET_TEXT}], "vault"))
    assert "an Enabled flag must be true/false" in patch_error(
        lambda: check_global_patch([add("/vaultEnabled", SECRET_TEXT)]))
    assert "is not accepted from a global hook" in patch_error(
        lambda: check_global_patch([add("/vault/password", SECRET_NUMBER)]))


def test_patch_stream_items_that_are_not_operations_are_named_by_type() -> None:
    text = patch_error(lambda: parse_patch_stream(json.dumps([SECRET_TEXT])))
    assert text == "values patch: line 1 column 1, item 0: expected a JSON patch operation " \
                   "object, got a string"
    assert patch_error(lambda: parse_patch_stream(str(SECRET_NUMBER))).endswith("got an integer")
