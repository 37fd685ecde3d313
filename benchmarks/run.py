"""Run the benchmarks in sequence and print a summary (`make bench` calls this; not a test).

    python benchmarks/run.py [--quick] [--only sandbox|operator|bindings ...]

Each benchmark runs as its own process (so one failing does not stop the others, and the
operator's memory is measured without the others' state): `sandbox_bench.py` (the API server
alone), `operator_bench.py` (issue 4: 50 modules, converge, restart, settings changes, peak RSS)
and `bindings_bench.py` (issue 5: events through a kubernetes binding, RSS with 10,000 watched
objects). Their own output is shown as they run; the summary repeats every figure with its
target and whether it was met, and the wall time of each benchmark. `--quick` shrinks every
benchmark (about a minute in all). Exit status 1 when a benchmark failed to run; a missed target
is reported, not an error. The full figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench_support import Figure, print_figures, python_env, use_project_tools

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script; `writes_json` scripts take `--json OUT` and print `Figure`s."""

    name: str
    script: str
    quick_args: tuple[str, ...]
    writes_json: bool


BENCHMARKS = (
    Benchmark("sandbox", "sandbox_bench.py", ("--objects", "2000"), writes_json=False),
    Benchmark("operator", "operator_bench.py", ("--quick",), writes_json=True),
    Benchmark("bindings", "bindings_bench.py", ("--quick",), writes_json=True),
)


@dataclass
class Outcome:
    benchmark: Benchmark
    returncode: int
    seconds: float
    figures: list[Figure]
    lines: list[str]      # the printed figures of a script that writes no JSON


def run_one(benchmark: Benchmark, quick: bool, workdir: Path) -> Outcome:
    argv = [sys.executable, str(HERE / benchmark.script),
            *(benchmark.quick_args if quick else ())]
    out = workdir / f"{benchmark.name}.json"
    if benchmark.writes_json:
        argv += ["--json", str(out)]
    print(f"\n=== {benchmark.name}: {' '.join(argv[1:])}", flush=True)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=python_env({}), stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line.rstrip())
    returncode = proc.wait()
    seconds = time.perf_counter() - started
    figures = []
    if benchmark.writes_json and out.exists():
        figures = [Figure(**entry) for entry in json.loads(out.read_text())]
    return Outcome(benchmark, returncode, seconds, figures,
                   [] if benchmark.writes_json else [line for line in lines if line.strip()])


def summary(outcomes: list[Outcome]) -> None:
    print("\n" + "=" * 100 + "\nSummary")
    for outcome in outcomes:
        result = "ok" if outcome.returncode == 0 else f"FAILED (exit {outcome.returncode})"
        title = f"{outcome.benchmark.name}: {result}, {outcome.seconds:.0f} s"
        if outcome.figures:
            print_figures(title, outcome.figures)
        else:
            print(f"\n{title}")
            for line in outcome.lines:
                print(f"  {line}")
    missed = [f.name.strip() for o in outcomes for f in o.figures if f.verdict() == "missed"]
    print(f"\ntargets missed: {', '.join(missed) if missed else 'none'}")


def main(argv: list[str] | None = None) -> int:
    names = [b.name for b in BENCHMARKS]
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs of every benchmark")
    parser.add_argument("--only", action="append", choices=names, metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(names)}")
    args = parser.parse_args(argv)
    use_project_tools()
    selected = [b for b in BENCHMARKS if not args.only or b.name in args.only]
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        outcomes = [run_one(benchmark, args.quick, Path(tmp)) for benchmark in selected]
    summary(outcomes)
    return 0 if all(o.returncode == 0 for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
