"""Process and API helpers shared by the operator benchmarks (`operator_bench.py`,
`bindings_bench.py`); `run.py` runs those scripts.

- `Sandbox` starts `python -m kube_sandbox` with the project's CRDs in a temporary directory
  and gives a keep-alive JSON client (`Api`) on it. The client is the standard library's, so
  the figures measure the operator, not a client library.
- `Operator` starts the real `python -m addon_operator run` against it, waits for `/readyz`,
  reads its memory from `/proc/<pid>/status` and its `/metrics`.
- `Figure` and `print_figures` print a figure next to its target; `--json` output of the
  benchmark scripts is a list of `Figure.as_dict()` for `run.py`'s summary.
- `add_output_options` and `run_benchmark` are what every benchmark script's `main` shares:
  `--json`/`--workdir`, the tool check, the work directory, printing and exit codes.

Benchmarks are not tests: nothing here asserts a timing. A wait that times out raises
`BenchError` with the tail of the operator's log.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
# The process helpers and the tool check are the end-to-end tests' own, so both start
# processes the same way.
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from e2e_support import free_port, python_env, stop_process, tools_missing  # noqa: E402
NAMESPACE = "addons"  # the operator's namespace: Helm releases and Events
MODULES_PATH = "/apis/addon-operator.io/v1alpha1/modules"
POLL_SECONDS = 0.01


class BenchError(RuntimeError):
    """A benchmark could not reach the state it measures (names what and shows the log)."""


def use_project_tools() -> None:
    """Put the pinned helm and kubectl of `.tools/bin` first on PATH (as `make` does)."""
    os.environ["PATH"] = os.pathsep.join([str(ROOT / ".tools" / "bin"), os.environ["PATH"]])


def wait_until(what: str, check: Callable[[], bool], timeout: float,
               on_timeout: Callable[[], str] = lambda: "") -> float:
    """Poll `check` every 10 ms until it is true; the seconds it took."""
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise BenchError(f"timed out after {timeout:g}s waiting for {what}\n{on_timeout()}")
        time.sleep(POLL_SECONDS)
    return time.perf_counter() - started


class Api:
    """A keep-alive JSON client for the sandbox (no authentication, one connection)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._http = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: object = None,
             content_type: str = "application/json") -> dict[str, Any]:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        try:
            self._http.request(method, path, body=payload, headers=headers)
            response = self._http.getresponse()
        except (http.client.HTTPException, OSError):
            self._http.close()  # the server closed a kept-alive connection: reconnect once
            self._http.request(method, path, body=payload, headers=headers)
            response = self._http.getresponse()
        data = response.read()
        if response.status >= 300:
            raise BenchError(f"{method} {path}: HTTP {response.status} {data[:300]!r}")
        return json.loads(data)

    def create(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", path, obj)

    def merge_patch(self, path: str, patch: dict[str, Any]) -> dict[str, Any]:
        return self.call("PATCH", path, patch, "application/merge-patch+json")

    def create_namespace(self, name: str) -> None:
        self.create("/api/v1/namespaces", {"metadata": {"name": name}})

    def modules(self) -> list[dict[str, Any]]:
        return self.call("GET", MODULES_PATH)["items"]

    def module(self, name: str) -> dict[str, Any]:
        return self.call("GET", f"{MODULES_PATH}/{name}")

    def patch_module_spec(self, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return self.merge_patch(f"{MODULES_PATH}/{name}", {"spec": spec})

    def release_revisions(self) -> dict[str, int]:
        """The latest revision of every Helm release in the operator namespace (from the
        release Secrets Helm writes, so the count does not depend on the operator's status)."""
        selector = urllib.parse.quote("owner=helm")
        secrets = self.call("GET", f"/api/v1/namespaces/{NAMESPACE}/secrets?labelSelector={selector}")
        latest: dict[str, int] = {}
        for secret in secrets["items"]:
            labels = secret["metadata"]["labels"]
            latest[labels["name"]] = max(latest.get(labels["name"], 0), int(labels["version"]))
        return latest


def module_ready(module: dict[str, Any], revision: int = 1) -> bool:
    """Phase Ready for the current generation with a release of at least `revision`."""
    status = module.get("status") or {}
    return (status.get("phase") == "Ready"
            and status.get("observedGeneration") == module["metadata"].get("generation")
            and (status.get("release") or {}).get("revision", 0) >= revision)


class Sandbox:
    """`python -m kube_sandbox` with the project's CRDs, in a context manager."""

    def __init__(self, workdir: Path, history_size: int = 10_000) -> None:
        self.workdir = workdir
        self.kubeconfig = workdir / "kubeconfig"
        self.log_path = workdir / "sandbox.log"
        argv = [sys.executable, "-m", "kube_sandbox", "--port", "0", "--kubeconfig", str(self.kubeconfig),
                "--crds", str(ROOT / "crds"), "--history-size", str(history_size)]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(argv, env=python_env({}), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until("the sandbox API server", self._listening, 20.0, self._log)
        except BenchError:
            stop_process(self.proc)
            raise
        self.api = Api(self.port)
        self.api.create_namespace(NAMESPACE)

    def _log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _listening(self) -> bool:
        if self.proc.poll() is not None:
            raise BenchError(f"the sandbox exited with {self.proc.returncode}:\n{self._log()}")
        for line in self._log().splitlines():
            if "listening on " in line and self.kubeconfig.exists():
                url = line.split("listening on ", 1)[1].strip()
                self.port = int(urllib.parse.urlsplit(url).port or 0)
                return True
        return False

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        stop_process(self.proc)


@dataclass(frozen=True)
class Memory:
    """Resident memory of a process in MiB: now (VmRSS) and its peak (VmHWM)."""

    rss_mib: float
    peak_mib: float


class Operator:
    """One `addon-operator run` process against a sandbox; restartable with the same settings."""

    def __init__(self, sandbox: Sandbox, modules_dir: Path, env: dict[str, str] | None = None) -> None:
        self.sandbox = sandbox
        self.port = free_port()
        self.argv = [sys.executable, "-m", "addon_operator", "run", "--modules-dir", str(modules_dir),
                     "--global-hooks-dir", "", "--listen-address", "127.0.0.1",
                     "--listen-port", str(self.port), "--tmp-dir", str(sandbox.workdir / "operator-tmp")]
        self.env = python_env({"KUBECONFIG": str(sandbox.kubeconfig), "ADDON_OPERATOR_NAMESPACE": NAMESPACE,
                               "LOG_LEVEL": "info", **(env or {})})
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log_path = sandbox.workdir / "operator-0.log"
        self._http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def start(self) -> Operator:
        self.starts += 1
        self.log_path = self.sandbox.workdir / f"operator-{self.starts}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=str(ROOT))
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def log_tail(self, chars: int = 4000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"operator log tail ({self.log_path}):\n{text[-chars:]}"

    def get(self, path: str) -> tuple[int, str]:
        """Status and body of GET `path` on the operator's HTTP server (0 when it is not up)."""
        try:
            self._http.request("GET", path)
            response = self._http.getresponse()
            return response.status, response.read().decode()
        except (http.client.HTTPException, OSError):
            self._http.close()
            return 0, ""

    def alive(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise BenchError(f"the operator exited with {code}\n{self.log_tail()}")
        return True

    def wait(self, what: str, check: Callable[[], bool], timeout: float) -> float:
        """Seconds until `check` holds; fails early when the operator exits."""
        return wait_until(what, lambda: self.alive() and check(), timeout, self.log_tail)

    def pause(self) -> None:
        """SIGSTOP the operator (watch events queue up on the API server meanwhile)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def ready(self) -> bool:
        return self.get("/readyz")[0] == 200

    def memory(self) -> Memory:
        """VmRSS and VmHWM of the operator process, from /proc/<pid>/status."""
        assert self.proc is not None
        fields: dict[str, float] = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
        return Memory(rss_mib=fields["VmRSS"], peak_mib=fields["VmHWM"])

    def metric_sum(self, name: str, **labels: str) -> float:
        """The sum of the samples called `name` on /metrics whose labels include `labels`."""
        status, body = self.get("/metrics")
        if status != 200:
            raise BenchError(f"GET /metrics on the operator answered {status}")
        return sum(sample.value for family in text_string_to_metric_families(body)
                   for sample in family.samples
                   if sample.name == name and labels.items() <= sample.labels.items())


@dataclass(frozen=True)
class Figure:
    """One measured figure; `target` is the goal printed next to it ("" when there is none)."""

    name: str
    value: float
    unit: str
    target: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def verdict(self) -> str:
        """Whether the target ("< N unit" or "N") is "met" or "missed"; "" without a target."""
        match = re.fullmatch(r"(<)?\s*([0-9.]+)(\s+\S+)?", self.target)
        if not match:
            return ""
        bound = float(match.group(2))
        met = self.value < bound if match.group(1) else self.value == bound
        return "met" if met else "missed"


def format_value(value: float, unit: str) -> str:
    if unit in ("", "count"):
        return f"{value:,.0f}"
    precision = 3 if abs(value) < 10 else 1
    return f"{value:,.{precision}f} {unit}"


def print_figures(title: str, figures: list[Figure]) -> None:
    print(f"\n{title}")
    for figure in figures:
        target = f"   (target: {figure.target}, {figure.verdict()})" if figure.target else ""
        print(f"  {figure.name:<66} {format_value(figure.value, figure.unit):>14}{target}")


def write_json(path: str | None, figures: list[Figure]) -> None:
    """Write the figures for `run.py` when the script was given `--json PATH`."""
    if path:
        Path(path).write_text(json.dumps([f.as_dict() for f in figures], indent=1))


def add_output_options(parser: argparse.ArgumentParser, kept: str) -> None:
    """`--json OUT` for `run.py`, and `--workdir DIR` to keep `kept` after the run."""
    parser.add_argument("--json", metavar="OUT", help="also write the figures as JSON to OUT")
    parser.add_argument("--workdir", type=Path, help=f"keep {kept} here "
                        "(default: a temporary directory, removed afterwards)")


def run_benchmark(parser: argparse.ArgumentParser, args: argparse.Namespace, script: str,
                  title: str, measure: Callable[[Path], list[Figure]]) -> int:
    """The rest of a benchmark script's `main` once its own options are read: refuse a
    non-empty `--workdir`, put the pinned tools on PATH, run `measure` in the work directory (a
    temporary one by default), print the figures under `title` and write `--json`. Returns the
    exit code: 2 when a tool is missing, 1 when the benchmark did not reach what it measures."""
    if args.workdir and args.workdir.is_dir() and any(args.workdir.iterdir()):
        parser.error(f"--workdir {args.workdir} is not empty")
    use_project_tools()
    missing = tools_missing()
    if missing:
        print(f"{script}: {missing}", file=sys.stderr)
        return 2
    try:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            figures = measure(args.workdir)
        else:
            with tempfile.TemporaryDirectory(prefix=f"{script.replace('_', '-')}-") as tmp:
                figures = measure(Path(tmp))
    except BenchError as exc:
        print(f"{script}: {exc}", file=sys.stderr)
        return 1
    print_figures(title, figures)
    write_json(args.json, figures)
    return 0

