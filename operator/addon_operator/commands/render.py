"""`addon-operator render [--modules-dir D] [-f FILE...] MODULE`: what a module would deploy.

Composes the module's values from the files and the given Module/GlobalConfig manifests the way
the operator does before any hook has run (hooks are not run, and stderr says so), checks them
against the module's values schema and its `x-required-for-helm` fields, and prints what
`helm template` renders with them. Exit 1 with a one-line reason when the module is unknown,
disabled, its settings or values are invalid, a value Helm requires is missing, or helm fails.
A hooks-only module has nothing to render: stderr says so and the exit code is 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from addon_operator import manifests
from addon_operator.commands.inputs import (
    CommandError,
    HooklessValues,
    add_dir_options,
    add_manifests_option,
    decide_offline,
    read_discovery,
)
from addon_operator.helm import HelmClient, HelmError, prepare_chart
from addon_operator.models import Discovery, ModuleDef
from addon_operator.values import GLOBAL_KEY, check_helm_values, helm_values, validate_values

HELP = "print the manifests a module would deploy (no hooks run, no cluster needed)"
NAMESPACE_ENV = "ADDON_OPERATOR_NAMESPACE"
DEFAULT_NAMESPACE = "default"
HELM = "helm"


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser("render", help=HELP, description=HELP)
    add_dir_options(parser)
    add_manifests_option(parser)
    parser.add_argument(
        "--namespace", default=os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE,
        help=f"the release namespace (default: ${NAMESPACE_ENV} or '{DEFAULT_NAMESPACE}')",
    )
    parser.add_argument("module", metavar="MODULE", help="the module name, e.g. echo-server")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    discovery = read_discovery(args)
    module = discovery.module(args.module)
    if module is None:
        known = ", ".join(m.name for m in discovery.modules) or "none"
        raise CommandError(f"unknown module {args.module!r} (known modules: {known})")
    found = manifests.load(args.files)
    problems = manifests.all_problems(found, discovery)
    if problems:
        raise CommandError("invalid manifests, nothing rendered:" + _lines(problems))
    values = HooklessValues(discovery, found)
    decision = next(d for d in decide_offline(discovery, found, values) if d.module == module.name)
    if decision.error is not None:
        raise CommandError(f"module {module.name}: {decision.message}")
    if not decision.enabled:
        raise CommandError(f"module {module.name} is disabled ({decision.reason}): {decision.message}")
    if not module.has_chart:
        print(f"render: module {module.name} has no chart (hooks only): nothing to render",
              file=sys.stderr)
        return 0
    print(f"render: {_hooks_note(discovery, module)}", file=sys.stderr)
    module_values = values.module_values(module)
    _check(values, module, module_values)
    document = helm_values(values.global_values, module.key, module_values)
    sys.stdout.write(_helm_template(module, document, args.namespace))
    return 0


def _check(values: HooklessValues, module: ModuleDef, module_values: dict[str, Any]) -> None:
    """Values against the values schemas, then the fields Helm requires (x-required-for-helm)."""
    owner = f"module {module.name}"
    stores = (
        (values.global_values, values.global_schemas, "global", GLOBAL_KEY),
        (module_values, values.schemas(module), owner, module.key),
    )
    invalid = [p for v, s, o, k in stores for p in validate_values(v, s, o, key=k)]
    if invalid:
        raise CommandError("invalid values:" + _lines(invalid))
    missing = [p for v, s, o, k in stores for p in check_helm_values(v, s, o, key=k)]
    if missing:
        raise CommandError(
            f"module {module.name} cannot be rendered: values required for Helm "
            "(x-required-for-helm) are missing; hooks would set them, but render runs no hooks:"
            + _lines(missing)
        )


def _helm_template(module: ModuleDef, document: dict[str, Any], namespace: str) -> str:
    if shutil.which(HELM) is None:
        raise CommandError(
            f"{HELM} not found on PATH (`make setup` installs the pinned one into .tools/bin)"
        )
    with tempfile.TemporaryDirectory(prefix="addon-operator-render-") as tmp:
        work = Path(tmp)
        values_file = work / f"{module.name}.module-values.yaml"
        values_file.write_text(json.dumps(document, indent=2))
        try:
            chart = prepare_chart(module.path, module.name, work / "charts")
            helm = HelmClient(namespace, home=work / "helm-home", binary=HELM)
            return helm.render(module.name, chart, values_file)
        except HelmError as exc:
            raise CommandError(str(exc)) from None


def _hooks_note(discovery: Discovery, module: ModuleDef) -> str:
    own = [str(h.relative_to(module.path)) for h in module.hooks] or ["none"]
    hooks_dir = discovery.global_.hooks_dir
    shared = [str(h.relative_to(hooks_dir)) for h in discovery.global_.hooks] if hooks_dir else []
    return (
        "hooks are not run, so values they would set are not in this output "
        f"(module hooks: {', '.join(own)}; global hooks: {', '.join(shared) or 'none'})"
    )


def _lines(problems: Iterable[object]) -> str:
    return "".join(f"\n  {p}" for p in problems)
