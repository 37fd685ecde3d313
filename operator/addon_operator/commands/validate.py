"""`addon-operator validate [--modules-dir D] FILE...`: check manifests without a cluster.

For the CI of a GitOps repository: every Module/GlobalConfig object in the given files and
directories is checked for its shape (kind, apiVersion, name, spec fields) and against the
discovered modules (known name, settings valid against the config schema). Prints one line per
problem, `FILE: Kind/name: path: message`, on stdout and a summary on stderr; exit 1 on any
problem.
"""

from __future__ import annotations

import argparse
import sys

from addon_operator import manifests
from addon_operator.commands.inputs import add_dir_options, read_discovery

HELP = "check Module/GlobalConfig manifests against the modules' schemas"


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser("validate", help=HELP, description=HELP)
    add_dir_options(parser)
    parser.add_argument("paths", nargs="+", metavar="FILE", help="a YAML file or a directory")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    discovery = read_discovery(args)
    found = manifests.load(args.paths)
    problems = manifests.all_problems(found, discovery)
    for problem in problems:
        print(problem)
    objects = f"{found.count} object{'s' if found.count != 1 else ''}"
    if problems:
        print(f"validate: {len(problems)} problem{'s' if len(problems) != 1 else ''} in {objects}",
              file=sys.stderr)
        return 1
    print(f"validate: {objects} valid", file=sys.stderr)
    return 0
