"""`addon-operator modules [--modules-dir D] [-f FILE...]`: the discovered modules at a glance.

One row per module in run order: weight, chart kind, number of hooks, and the enablement decision
with the step that made it (docs/modules.md, Enablement), as the operator would decide it from the
files and the given manifests' `spec.enabled` — `enabled` scripts run, global hooks do not.
`-o wide` adds the decision's message. Manifest problems and failing `enabled` scripts are
printed on stderr and make the exit code 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from addon_operator import manifests
from addon_operator.commands.inputs import (
    HooklessValues,
    add_dir_options,
    add_manifests_option,
    decide_offline,
    read_discovery,
)
from addon_operator.enablement import Decision
from addon_operator.models import ModuleDef

HELP = "list the discovered modules and whether (and why) each is enabled"
COLUMNS = ("NAME", "WEIGHT", "CHART", "HOOKS", "ENABLED", "REASON")


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser("modules", help=HELP, description=HELP)
    add_dir_options(parser)
    add_manifests_option(parser)
    parser.add_argument("-o", "--output", choices=("wide",), help="wide: add the MESSAGE column")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    discovery = read_discovery(args)
    found = manifests.load(args.files)
    problems = manifests.all_problems(found, discovery)
    for problem in problems:
        print(problem, file=sys.stderr)
    if discovery.global_.hooks:
        print("modules: global hooks are not run, so their <moduleKey>Enabled patches are not applied",
              file=sys.stderr)
    decisions = decide_offline(discovery, found, HooklessValues(discovery, found))
    wide = args.output == "wide"
    rows = [_row(m, d, wide) for m, d in zip(discovery.modules, decisions)]
    sys.stdout.write(table(COLUMNS + (("MESSAGE",) if wide else ()), rows))
    failed = [d for d in decisions if d.error is not None]
    for decision in failed:
        print(f"{decision.module}: {decision.message}", file=sys.stderr)
    return 1 if problems or failed else 0


def _row(module: ModuleDef, decision: Decision, wide: bool) -> tuple[str, ...]:
    enabled = "error" if decision.error is not None else str(decision.enabled).lower()
    row = (module.name, str(module.weight), module.chart.value, str(len(module.hooks)), enabled,
           decision.reason)
    return row + ((decision.message,) if wide else ())


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by three spaces, like `kubectl get`."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["   ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    return "\n".join(lines) + "\n"
