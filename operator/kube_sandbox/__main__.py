"""`python -m kube_sandbox`: run the sandbox API server alone until SIGINT/SIGTERM.

    python -m kube_sandbox --port 6443 --kubeconfig .sandbox/kubeconfig [--state FILE] [--crds DIR...]

Prints the URL and how to point kubectl at it; with `--state` the objects survive a restart.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from .server import SandboxServer


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m kube_sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    parser.add_argument("--kubeconfig", type=Path, default=Path(".sandbox/kubeconfig"),
                        help="where to write the kubeconfig for this server (default .sandbox/kubeconfig)")
    parser.add_argument("--state", type=Path, help="JSON file to load the state from and save it to")
    parser.add_argument("--crds", type=Path, nargs="+", action="extend", default=[], metavar="DIR",
                        help="directories whose CustomResourceDefinition manifests are installed at start")
    parser.add_argument("--history-size", type=int, default=10_000,
                        help="changes kept for watches; older resourceVersions get 410 Gone")
    parser.add_argument("--bookmark-interval", type=float, default=10.0, help="seconds between watch bookmarks")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback --host (the server has no authentication)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        server = SandboxServer(
            args.host, args.port, kubeconfig_path=args.kubeconfig, state_path=args.state, crd_dirs=args.crds,
            history_size=args.history_size, bookmark_interval=args.bookmark_interval, allow_remote=args.allow_remote,
        )
    except (ValueError, OSError) as exc:
        print(f"kube_sandbox: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with server:
        print(f"sandbox API server listening on {server.url}", flush=True)
        print(f"kubeconfig written to {args.kubeconfig}: export KUBECONFIG={args.kubeconfig.resolve()}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
