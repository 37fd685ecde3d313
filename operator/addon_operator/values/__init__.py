"""The values engine: schemas, defaults, validation, hook patches, composition and checksums.

Pure: it works on dicts handed over by discovery, the Module/GlobalConfig objects and hook output;
it reads no files and runs nothing. Each values store (`global`, and one per module under its
camelCase key) is composed from layers, lowest precedence first:

    static values.yaml  →  config-schema defaults  →  settings (deep merge, lists replaced)
    →  values-schema defaults  →  stored hook patches (non-strict)

- `schemas.py`     `Schemas.load`: the config / values (`x-extend`) / helm (`x-required-for-helm`)
                   schemas with the implicit `additionalProperties: false`;
- `defaults.py`    `apply_defaults`: fill missing keys from `default`;
- `validate.py`    `validate` → `Problem(owner, path, message)`;
- `patches.py`     hook patch streams: parse, per-hook rules, apply, compaction, `*Enabled` ops;
- `compose.py`     `compose`, `config_values`, `helm_values` and the settings/values/helm checks;
- `checksum.py`    stable checksums of values and of rendered manifests.
"""

from addon_operator.values.checksum import checksum, text_checksum
from addon_operator.values.compose import (
    check_helm_values,
    compose,
    config_values,
    helm_values,
    validate_settings,
    validate_values,
)
from addon_operator.values.defaults import apply_defaults
from addon_operator.values.patches import (
    GLOBAL_KEY,
    PatchError,
    apply_patch,
    check_global_patch,
    check_module_patch,
    compact,
    enabled_patch_values,
    parse_patch_stream,
)
from addon_operator.values.schemas import Schemas, SchemaError
from addon_operator.values.validate import Problem, validate

__all__ = [
    "GLOBAL_KEY",
    "PatchError",
    "Problem",
    "SchemaError",
    "Schemas",
    "apply_defaults",
    "apply_patch",
    "check_global_patch",
    "check_helm_values",
    "check_module_patch",
    "checksum",
    "compact",
    "compose",
    "config_values",
    "enabled_patch_values",
    "helm_values",
    "parse_patch_stream",
    "text_checksum",
    "validate",
    "validate_settings",
    "validate_values",
]
