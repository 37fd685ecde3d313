"""What the offline commands share: the modules on disk, the manifests given, hookless values.

`validate`, `render` and `modules` all resolve the modules dir and the global hooks dir (flag >
`ADDON_OPERATOR_*` > legacy variable > default, via `settings.py`), discover the modules, read the
Module/GlobalConfig manifests, and — for `render` and `modules` — compose values and decide
enablement the way the operator would, except that no hooks run (so nothing they would patch is
there, and no global hook enables or disables a module).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from addon_operator.discovery import DiscoveryError, discover
from addon_operator.enablement import Decision, EnabledScriptRunner, decide
from addon_operator.manifests import Manifests
from addon_operator.models import Discovery, ModuleDef
from addon_operator.settings import (
    DEFAULT_GLOBAL_HOOKS_DIR,
    resolve_global_hooks_dir,
    resolve_modules_dirs,
)
from addon_operator.values import GLOBAL_KEY, Schemas, SchemaError, compose, config_values, helm_values


class CommandError(Exception):
    """A problem the user must fix; `cli.main` prints it as one line and exits 1."""


def add_dir_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--modules-dir", metavar="DIRS",
        help="':'-separated modules dirs (default: $ADDON_OPERATOR_MODULES_DIR, $MODULES_DIR, "
             "or 'modules')",
    )
    parser.add_argument(
        "--global-hooks-dir", metavar="DIR",
        help="global hooks dir with openapi/ schemas (default: $ADDON_OPERATOR_GLOBAL_HOOKS_DIR, "
             "$GLOBAL_HOOKS_DIR, or 'global-hooks' if it exists)",
    )


def add_manifests_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--filename", dest="files", action="append", default=[], metavar="FILE",
        help="Module/GlobalConfig manifests: a YAML file or a directory (repeatable)",
    )


def read_discovery(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> Discovery:
    """Discover the modules; discovery warnings go to stderr, fatal problems raise CommandError."""
    modules_dirs = resolve_modules_dirs(args.modules_dir, env)
    default_hooks = Path(DEFAULT_GLOBAL_HOOKS_DIR)
    hooks_dir = resolve_global_hooks_dir(
        args.global_hooks_dir, env, default=str(default_hooks) if default_hooks.is_dir() else None
    )
    try:
        found = discover(modules_dirs, hooks_dir)
    except DiscoveryError as exc:
        raise CommandError(str(exc)) from None
    for warning in found.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return found


class HooklessValues:
    """Values as the operator composes them before any hook has run.

    Layers: static values, config-schema defaults, the manifests' settings, values-schema
    defaults; no hook patches.
    """

    def __init__(self, discovery: Discovery, manifests: Manifests) -> None:
        self._manifests = manifests
        g = discovery.global_
        self.global_schemas = _schemas(g.config_schema, g.values_schema, GLOBAL_KEY)
        self.global_values = compose(
            g.static_values, self.global_schemas, manifests.global_settings(), [], GLOBAL_KEY
        )
        self._schemas: dict[str, Schemas] = {}

    def schemas(self, module: ModuleDef) -> Schemas:
        if module.name not in self._schemas:
            self._schemas[module.name] = _schemas(
                module.config_schema, module.values_schema, f"module {module.name}"
            )
        return self._schemas[module.name]

    def module_values(self, module: ModuleDef) -> dict[str, Any]:
        settings = self._manifests.module_settings(module.name)
        return compose(module.static_values, self.schemas(module), settings, [], module.key)

    def documents(self, module: ModuleDef) -> tuple[dict[str, Any], dict[str, Any]]:
        """($VALUES_PATH, $CONFIG_VALUES_PATH) contents for the module's scripts."""
        values = helm_values(self.global_values, module.key, self.module_values(module))
        config = {
            GLOBAL_KEY: config_values(self._manifests.global_settings()),
            module.key: config_values(self._manifests.module_settings(module.name)),
        }
        return values, config


def decide_offline(discovery: Discovery, manifests: Manifests, values: HooklessValues) -> list[Decision]:
    """Enablement from the files and `spec.enabled`, running `enabled` scripts in a tmp dir."""
    with tempfile.TemporaryDirectory(prefix="addon-operator-enabled-") as tmp:
        return decide(
            discovery,
            specs=manifests.specs(),
            dynamic={},
            values_for=values.documents,
            run_script=EnabledScriptRunner(Path(tmp)),
        )


def _schemas(config: Any, values: Any, owner: str) -> Schemas:
    try:
        return Schemas.load(config, values, owner=owner)
    except SchemaError as exc:
        raise CommandError(str(exc)) from None
