"""Which modules and global hooks dirs the operator searches: the flag, then the prefixed
environment variable, then the legacy ones, then the default; an explicitly empty value means
none."""

from __future__ import annotations

from pathlib import Path

from addon_operator.settings import resolve_global_hooks_dir, resolve_modules_dirs


def test_modules_dirs_flag_wins() -> None:
    env = {"ADDON_OPERATOR_MODULES_DIR": "/env", "MODULES_DIR": "/legacy"}
    assert resolve_modules_dirs("/flag:/flag2", env) == [Path("/flag"), Path("/flag2")]


def test_modules_dirs_prefixed_env_then_legacy_then_default() -> None:
    assert resolve_modules_dirs(None, {"ADDON_OPERATOR_MODULES_DIR": "/a:/b", "MODULES_DIR": "/legacy"}) == [
        Path("/a"),
        Path("/b"),
    ]
    assert resolve_modules_dirs(None, {"ADDON_OPERATOR_MODULES_DIR": "", "MODULES_DIR": "/legacy"}) == [
        Path("/legacy")
    ]
    assert resolve_modules_dirs(None, {}) == [Path("modules")]
    assert resolve_modules_dirs(None, {}, default="/opt/m") == [Path("/opt/m")]


def test_explicitly_empty_modules_dir_flag_means_none() -> None:
    assert resolve_modules_dirs("", {"MODULES_DIR": "/legacy"}) == []


def test_global_hooks_dir_resolution() -> None:
    env = {"ADDON_OPERATOR_GLOBAL_HOOKS_DIR": "/env", "GLOBAL_HOOKS_DIR": "/legacy", "SHELL_OPERATOR_HOOKS_DIR": "/so"}
    assert resolve_global_hooks_dir("/flag", env) == Path("/flag")
    assert resolve_global_hooks_dir(None, env) == Path("/env")
    assert resolve_global_hooks_dir(None, {"GLOBAL_HOOKS_DIR": "/legacy", "SHELL_OPERATOR_HOOKS_DIR": "/so"}) == Path(
        "/legacy"
    )
    assert resolve_global_hooks_dir(None, {"SHELL_OPERATOR_HOOKS_DIR": "/so"}) == Path("/so")
    assert resolve_global_hooks_dir(None, {}) == Path("global-hooks")
    assert resolve_global_hooks_dir(None, {}, default=None) is None
    assert resolve_global_hooks_dir("", {"GLOBAL_HOOKS_DIR": "/legacy"}) is None
