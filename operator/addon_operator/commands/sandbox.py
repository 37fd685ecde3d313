"""`addon-operator sandbox`: a local API server with the CRDs, plus the operator, no Docker.

    addon-operator sandbox [--modules-dir D] [--global-hooks-dir G] [--kubeconfig PATH] [--api-only]

Starts the sandbox API server as a child process (`python -m kube_sandbox`; the operator never
imports it) with the CRDs from `--crds-dir` installed and its objects kept in a state file next
to the kubeconfig, waits for it to write the kubeconfig (default `.sandbox/kubeconfig`), prints
how to point kubectl at it, and runs the operator in this process against it (by default on the
example modules in `modules/` and `global-hooks/`). `--api-only` runs just the API server.
Ctrl-C or SIGTERM stops the operator gracefully, then the API server.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import threading
import time
from pathlib import Path

import addon_operator
from addon_operator import logs, runner
from addon_operator.commands.inputs import CommandError, add_dir_options
from addon_operator.commands.run import options_from, run_operator, stop_on_signals
from addon_operator.runtime.app import Operator
from addon_operator.runner import Started
from addon_operator.runtime.options import add_runtime_options

HELP = "start a local API server with the CRDs and run the operator against it"
DEFAULT_KUBECONFIG = Path(".sandbox") / "kubeconfig"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser("sandbox", help=HELP, description=HELP)
    add_dir_options(parser)
    add_runtime_options(parser)
    parser.add_argument("--api-only", action="store_true", help="run only the API server")
    parser.add_argument("--api-port", type=int, default=0,
                        help="port of the API server (default 0: a free one)")
    parser.add_argument("--crds-dir", default="crds",
                        help="CRD manifests to install (default crds)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    kubeconfig = Path(args.kubeconfig or DEFAULT_KUBECONFIG).resolve()
    args.kubeconfig = str(kubeconfig)
    options = options_from(args)
    logs.configure(options.log_level, options.log_type)
    stop = threading.Event()
    stop_on_signals(stop)
    api = ApiServerProcess.start(kubeconfig, args.api_port, Path(args.crds_dir))
    try:
        api.wait_for_kubeconfig(kubeconfig, START_TIMEOUT)
        print(f"sandbox API server running (log: {api.log_path})\n"
              f"point kubectl at it:  export KUBECONFIG={kubeconfig}\n"
              f"then try:             kubectl get modules", flush=True)
        if args.api_only:
            while not stop.wait(0.5):
                if not api.alive():
                    raise CommandError(f"the API server exited; see {api.log_path}")
            return 0
        operator_options = dataclasses.replace(options, kubeconfig=str(kubeconfig))
        return run_operator(Operator(operator_options), stop)
    finally:
        api.stop(STOP_TIMEOUT)


class ApiServerProcess:
    """The `python -m kube_sandbox` child (started with `runner.start`, in its own process
    group), output in `<kubeconfig dir>/api-server.log`."""

    def __init__(self, child: Started, log_path: Path) -> None:
        self._child = child
        self.log_path = log_path

    @classmethod
    def start(cls, kubeconfig: Path, port: int, crds_dir: Path) -> ApiServerProcess:
        if not crds_dir.is_dir():
            raise CommandError(f"CRD directory {crds_dir} does not exist (use --crds-dir)")
        kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        kubeconfig.unlink(missing_ok=True)
        log_path = kubeconfig.parent / "api-server.log"
        argv = [sys.executable, "-m", "kube_sandbox", "--port", str(port),
                "--kubeconfig", str(kubeconfig), "--crds", str(crds_dir.resolve()),
                "--state", str(kubeconfig.parent / "state.json")]
        source_root = str(Path(addon_operator.__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, env.get("PYTHONPATH")]))
        try:
            return cls(runner.start(argv, env=env, stdout_path=log_path), log_path)
        except OSError as exc:
            raise CommandError(f"cannot start the API server ({' '.join(argv)}): {exc}") from None

    def alive(self) -> bool:
        return self._child.poll() is None

    def wait_for_kubeconfig(self, kubeconfig: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not kubeconfig.is_file():
            if not self.alive():
                raise CommandError(f"the API server did not start: {self._log_tail()}")
            if time.monotonic() > deadline:
                raise CommandError(f"the API server wrote no {kubeconfig} within {timeout:g}s")
            time.sleep(0.05)

    def stop(self, timeout: float) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds; always reaps the child."""
        self._child.terminate(timeout)

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-10:]) or "(empty log)"
