"""Operator settings from flags and environment variables, with upstream's names.

Precedence is flag > `ADDON_OPERATOR_*` variable > the legacy unprefixed variable upstream's
documentation and image still use > default. The commands (`run`, `validate`, `render`,
`modules`, `sandbox`) resolve their directories here before calling discovery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from addon_operator.discovery import split_dirs

MODULES_DIR_ENV = ("ADDON_OPERATOR_MODULES_DIR", "MODULES_DIR")
GLOBAL_HOOKS_DIR_ENV = ("ADDON_OPERATOR_GLOBAL_HOOKS_DIR", "GLOBAL_HOOKS_DIR", "SHELL_OPERATOR_HOOKS_DIR")
DEFAULT_MODULES_DIR = "modules"
DEFAULT_GLOBAL_HOOKS_DIR = "global-hooks"


def resolve_modules_dirs(
    flag: str | None, env: Mapping[str, str], default: str = DEFAULT_MODULES_DIR
) -> list[Path]:
    """The `:`-separated modules dirs from `--modules-dir`, the environment, or `default`.

    An explicitly empty flag means "no modules dirs"; empty environment variables are unset.
    """
    return split_dirs(_first_setting(flag, env, MODULES_DIR_ENV, default) or "")


def resolve_global_hooks_dir(
    flag: str | None, env: Mapping[str, str], default: str | None = DEFAULT_GLOBAL_HOOKS_DIR
) -> Path | None:
    """The global hooks dir from `--global-hooks-dir`, the environment, or `default` (None: none)."""
    value = _first_setting(flag, env, GLOBAL_HOOKS_DIR_ENV, default)
    return Path(value) if value else None


def _first_setting(
    flag: str | None, env: Mapping[str, str], names: Sequence[str], default: str | None
) -> str | None:
    if flag is not None:
        return flag
    return next((env[name] for name in names if env.get(name)), default)
