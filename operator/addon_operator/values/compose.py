"""Composition of a store's effective values, the documents given to hooks and Helm, and checks.

One function serves the global store (key `global`) and every module store (key = the module's
camelCase values key). The layering, lowest to highest precedence, is upstream's:

1. static values (`values.yaml` files, already layered by discovery);
2. defaults of the config schema (fill missing keys only);
3. config values = the user's settings (`Module.spec.settings` / `GlobalConfig.spec.settings`),
   deep-merged: maps merge, scalars and lists are replaced;
4. defaults of the values schema (fill missing keys only);
5. the stored hook patches, applied non-strictly to the document `{key: values}`.

Problem paths: settings problems read `settings.foo.bar` (what a Module author writes under
`spec.settings`); values problems read `values.<key>.foo` (as `.Values.<key>.foo` in templates
and `/<key>/foo` in hook patches). Callers: the commands (`validate`, `render`) and the runtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from addon_operator.merge import deep_merge
from addon_operator.values.defaults import apply_defaults
from addon_operator.values.patches import GLOBAL_KEY, Op, PatchError, apply_patch
from addon_operator.values.schemas import Schemas
from addon_operator.values.validate import Problem, validate

def compose(
    static: Mapping[str, Any],
    schemas: Schemas,
    config: Mapping[str, Any] | None,
    patches: list[Op],
    key: str,
) -> dict[str, Any]:
    """The effective values of one store (without the `{key: ...}` wrapper)."""
    values = apply_defaults(dict(static), schemas.config)
    if config:
        values = deep_merge(values, config)
    values = apply_defaults(values, schemas.values)
    if not patches:
        return dict(values)
    patched = apply_patch({key: values}, patches, strict=False)
    result = patched.get(key, {}) if isinstance(patched, dict) else None
    if not isinstance(result, dict):
        raise PatchError(f"stored patches leave '/{key}' as {type(result).__name__}, not an object")
    return result


def config_values(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """What `$CONFIG_VALUES_PATH` holds for a store: the raw settings, no static values and no
    defaults (upstream's GetConfigValues). Wrap it as `{key: ...}` for the file."""
    return deep_merge({}, settings or {})


def helm_values(
    global_values: Mapping[str, Any], module_key: str, module_values: Mapping[str, Any]
) -> dict[str, Any]:
    """The values document given to Helm (and `$VALUES_PATH` of module hooks)."""
    return {GLOBAL_KEY: deep_merge({}, global_values), module_key: deep_merge({}, module_values)}


def validate_settings(
    settings: Mapping[str, Any] | None, schemas: Schemas, owner: str
) -> list[Problem]:
    """Settings plus config-schema defaults against the config schema, as upstream checks them."""
    with_defaults = apply_defaults(dict(settings or {}), schemas.config)
    return validate(with_defaults, schemas.config, owner=owner, root="settings")


def validate_values(
    values: Mapping[str, Any], schemas: Schemas, owner: str, *, key: str | None = None
) -> list[Problem]:
    """Effective values against the values schema; paths start `values.<key>` (`values` if no key)."""
    return validate(dict(values), schemas.values, owner=owner, root=_values_root(key))


def check_helm_values(
    module_values: Mapping[str, Any], schemas: Schemas, owner: str, *, key: str | None = None
) -> list[Problem]:
    """Module values against the helm schema (values schema + `x-required-for-helm`), before Helm."""
    return validate(dict(module_values), schemas.helm, owner=owner, root=_values_root(key))


def _values_root(key: str | None) -> str:
    return f"values.{key}" if key else "values"
