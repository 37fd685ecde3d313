"""The `addon-operator` command line: one subcommand per module in `commands/`.

`main` is the console-script entry (pyproject `addon-operator = addon_operator.cli:main`) and
what `python -m addon_operator` runs. Adding a command is one line in `COMMANDS` plus its module
with `register(subcommands)` and `run(args) -> int`. A `CommandError` from any command is printed
as `addon-operator <command>: error: <message>` with exit code 1; usage errors exit 2 (argparse).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from addon_operator import __version__
from addon_operator.commands import migrate, modules, render, run, sandbox, validate
from addon_operator.commands.inputs import CommandError

COMMANDS = (validate, render, modules, migrate, run, sandbox)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="addon-operator",
        description="Helm charts plus hooks plus a values store as self-configuring modules, "
                    "configured through Module and GlobalConfig custom resources.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except CommandError as exc:
        print(f"addon-operator {args.command}: error: {exc}", file=sys.stderr)
        return 1
