"""`addon-operator run`: the operator, in a pod or anywhere with a kubeconfig.

Resolves the settings (flags > `ADDON_OPERATOR_*` / legacy variables > defaults, see
`runtime.options`), sets up logging (`LOG_LEVEL`, `LOG_TYPE`), and runs `runtime.app.Operator`
until SIGTERM or SIGINT, which stop it gracefully (a second one exits at once, with status
128 + the signal number, without waiting for running tasks). Problems found before the operator can
start (a bad setting, named with what it accepts; broken modules or global hooks, no cluster,
busy port) exit 1 with one line, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType

from addon_operator import logs
from addon_operator.commands.inputs import CommandError, add_dir_options
from addon_operator.discovery import DiscoveryError
from addon_operator.hooks import HookConfigError
from addon_operator.kube import KubeConfigError
from addon_operator.runner import terminate_all
from addon_operator.runtime.app import Operator
from addon_operator.runtime.options import (
    OptionsError, RuntimeOptions, add_runtime_options, resolve_options,
)
from addon_operator.values import SchemaError

log = logging.getLogger(__name__)

HELP = "run the operator against the cluster of the kubeconfig (or the in-cluster account)"
STARTUP_ERRORS = (DiscoveryError, HookConfigError, KubeConfigError, SchemaError, OSError)


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser("run", help=HELP, description=HELP)
    add_dir_options(parser)
    add_runtime_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    options = options_from(args)
    logs.configure(options.log_level, options.log_type)
    stop = threading.Event()
    stop_on_signals(stop)
    return run_operator(Operator(options), stop)


def options_from(args: argparse.Namespace) -> RuntimeOptions:
    try:
        return resolve_options(args, dict(os.environ))
    except OptionsError as exc:
        raise CommandError(str(exc)) from None


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set `stop` (graceful shutdown); a second one forces the exit."""
    handler = stop_handler(stop)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)


def stop_handler(stop: threading.Event, force_exit: Callable[[int], object] = os._exit
                 ) -> Callable[[int, FrameType | None], None]:
    """The signal handler: the first signal sets `stop`, the next one calls `force_exit`."""
    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.warning("%s again: exiting now, without waiting for running tasks", name)
            terminate_all(grace=0.0)   # os._exit skips atexit: no hook may outlive us
            force_exit(128 + signum)
            return
        log.info("%s: stopping gracefully (send it again to exit at once)", name)
        stop.set()

    return handle


def run_operator(operator: Operator, stop: threading.Event) -> int:
    """`operator.run(stop)`, with start-up problems turned into a one-line CommandError."""
    try:
        return operator.run(stop)
    except STARTUP_ERRORS as exc:
        raise CommandError(str(exc)) from None
