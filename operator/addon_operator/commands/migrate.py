"""`addon-operator migrate --configmap FILE`: from the upstream ConfigMap to Module objects.

Reads an exported upstream addon-operator ConfigMap (`-` reads stdin) and writes the
GlobalConfig and Module manifests that replace it as one multi-document YAML stream (`--output`,
default stdout); the conversion itself is `migration.py`. With `--modules-dir` the result is
also checked the way `validate` checks manifests (settings against the modules' config schemas;
unknown modules are a warning, as upstream), and modules whose ConfigMap had no
`<moduleKey>Enabled` get `spec.enabled` pinned to what their files decide today, unless
`--keep-enabled-unset`. Problems are printed on stderr as `FILE: Kind/name: path: message`;
nothing is written then and the exit code is 1. The migration path is in docs/migration.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from addon_operator import manifests
from addon_operator.commands.inputs import CommandError, read_discovery
from addon_operator.enablement import decide
from addon_operator.manifests import ManifestProblem, Manifests
from addon_operator.migration import Conversion, convert, dump, pin_enabled
from addon_operator.models import Discovery

HELP = "convert an upstream addon-operator ConfigMap into GlobalConfig and Module manifests"
STDIO = "-"


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser("migrate", help=HELP, description=HELP)
    parser.add_argument("--configmap", required=True, metavar="FILE",
                        help="the ConfigMap manifest (kubectl get configmap ... -o yaml); '-' reads stdin")
    parser.add_argument("--output", "-o", default=STDIO, metavar="FILE",
                        help="where to write the manifests (default '-': stdout)")
    parser.add_argument("--modules-dir", metavar="DIRS",
                        help="':'-separated modules dirs to validate the result against "
                             "(without it, nothing is validated and no spec.enabled is pinned)")
    parser.add_argument("--global-hooks-dir", metavar="DIR",
                        help="global hooks dir whose openapi/ schema checks the global settings "
                             "(default: $ADDON_OPERATOR_GLOBAL_HOOKS_DIR, $GLOBAL_HOOKS_DIR, or "
                             "'global-hooks' if it exists); used with --modules-dir")
    parser.add_argument("--keep-enabled-unset", action="store_true",
                        help="leave spec.enabled unset where the ConfigMap had no <moduleKey>Enabled "
                             "(the module's defaults and global hooks keep deciding) instead of "
                             "pinning today's default")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    source = "<stdin>" if args.configmap == STDIO else args.configmap
    conversion = convert(_read(args.configmap), source)
    problems = list(conversion.problems)
    if not problems and args.modules_dir:
        discovery = read_discovery(args)
        problems += _check(conversion, discovery, source)
        if not args.keep_enabled_unset:
            _pin(conversion, discovery)
    elif conversion.enabled_unset and not args.keep_enabled_unset:
        _warn(f"spec.enabled left unset for {', '.join(conversion.enabled_unset)} (no <moduleKey>Enabled "
              "in the ConfigMap): their defaults decide; give --modules-dir to pin today's defaults")
    for warning in conversion.warnings:
        _warn(warning)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"migrate: {len(problems)} problem{'s' if len(problems) != 1 else ''}, nothing written",
              file=sys.stderr)
        return 1
    text = dump(conversion.objects, f"Converted from {source} by `addon-operator migrate`.")
    _write(args.output, text)
    modules = len(conversion.objects) - 1
    print(f"migrate: 1 GlobalConfig and {modules} Module{'s' if modules != 1 else ''} "
          f"written to {'stdout' if args.output == STDIO else args.output}", file=sys.stderr)
    return 0


def _check(conversion: Conversion, discovery: Discovery, source: str) -> list[ManifestProblem]:
    """The `validate` checks on the converted objects; unknown modules only warn."""
    found = Manifests()
    manifests.parse(dump(conversion.objects, source), source, 0, found)
    known = ", ".join(m.name for m in discovery.modules) or "none"
    for name in [n for n in found.modules if discovery.module(n) is None]:
        del found.modules[name]
        _warn(f"{source}: Module/{name}: no such module in the modules dirs (known modules: {known}); "
              "the operator will report it with phase Unknown")
    return manifests.all_problems(found, discovery)


def _pin(conversion: Conversion, discovery: Discovery) -> None:
    """Pin `spec.enabled` to the decision of the modules' own files (no hooks, no scripts)."""
    decisions = decide(discovery, specs={}, dynamic={}, values_for=lambda module: ({}, {}), run_script=None)
    pinned = pin_enabled(conversion, decisions)
    for line in pinned:
        _warn(f"pinned {line}; --keep-enabled-unset leaves it to the defaults")
    if pinned and discovery.global_.hooks:
        _warn("pinned spec.enabled values take precedence over <moduleKey>Enabled patches from global "
              "hooks; use --keep-enabled-unset if a global hook decides these modules")


def _read(path: str) -> str:
    if path == STDIO:
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CommandError(f"{path}: cannot read: {reason}") from None


def _write(path: str, text: str) -> None:
    if path == STDIO:
        sys.stdout.write(text)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
