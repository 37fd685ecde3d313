"""Kubernetes-binding benchmark (issue 5; not a test): API changes → hook runs, and memory with
10,000 watched objects.

Run: `python benchmarks/bindings_bench.py [--events 2000] [--objects 10000] [--quick] [--json OUT]`
(`run.py` runs it with the other benchmarks). One hooks-only module, `watcher`, has a bash hook
with a `kubernetes` binding on the ConfigMaps of namespace `bench-watch` (`jqFilter:
.data.value`, `keepFullObjectsInMemory` from the environment, default `false`). The hook appends
one JSON line per run to a file, listing its binding contexts, so the benchmark counts runs and
contexts exactly. Every ConfigMap carries a 1 KiB payload besides `value`. It prints:

- the latency of one change (merge patch → the hook has recorded its `Modified` context) on an
  idle operator, median and max;
- events per second from the API to hook runs, twice: `--events` patches of `value` sent live as
  fast as one keep-alive client can (bounded by that client), and the same number sent while the
  operator is stopped (SIGSTOP) and then drained after SIGCONT (bounded by the operator); each
  until the hook has recorded every `Modified` context, with the number of hook runs they took
  (consecutive contexts are combined into one run);
- with `--objects` ConfigMaps: start → Synchronization recorded, and the operator's RSS with
  `keepFullObjectsInMemory: false` (and, unless `--quick`, `true` for comparison).
The figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from bench_support import (
    Api, BenchError, Figure, Operator, Sandbox, add_output_options, run_benchmark,
)

WATCHED_NAMESPACE = "bench-watch"
FIRST_OBJECTS = 100           # objects present during the event benchmarks
IDLE_CHANGES = 10
PAYLOAD = "x" * 1024
START_TIMEOUT = 300.0
EVENT_TIMEOUT = 600.0
MODIFIED = "Event:Modified"
SYNCHRONIZATION = "Synchronization:"

HOOK = """#!/usr/bin/env bash
# kubernetes binding on the ConfigMaps of the benchmark namespace; each run appends one JSON
# line to $BENCH_RUNS_FILE: ["<type>:<watchEvent>:<objects>", ...], one entry per context.
set -euo pipefail
if [[ ${1:-} == "--config" ]]; then
  cat <<CONFIG
configVersion: v1
kubernetes:
- name: configmaps
  apiVersion: v1
  kind: ConfigMap
  namespace:
    nameSelector:
      matchNames: [bench-watch]
  jqFilter: .data.value
  keepFullObjectsInMemory: ${BENCH_KEEP_FULL_OBJECTS:-false}
CONFIG
  exit 0
fi
jq -c '[.[] | "\\(.type):\\(.watchEvent // ""):\\(.objects // [] | length)"]' \\
  "$BINDING_CONTEXT_PATH" >>"$BENCH_RUNS_FILE"
"""


def write_module(root: Path) -> None:
    hook = root / "010-watcher" / "hooks" / "watch.sh"
    hook.parent.mkdir(parents=True)
    hook.write_text(HOOK)
    hook.chmod(0o755)
    (root / "values.yaml").write_text("watcherEnabled: true\n")


class RunLog:
    """The hook's run file, read incrementally: runs, contexts by `type:watchEvent`, and the
    object count of the last Synchronization."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self.runs = 0
        self.contexts: Counter[str] = Counter()
        self.synced_objects = -1

    def refresh(self) -> RunLog:
        if not self.path.exists():
            return self
        with self.path.open("rb") as file:
            file.seek(self._offset)
            data = file.read()
        complete = data[:data.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.splitlines():
            self.runs += 1
            for entry in json.loads(line):
                kind, event, objects = entry.split(":")
                self.contexts[f"{kind}:{event}"] += 1
                if kind == "Synchronization":
                    self.synced_objects = int(objects)
        return self

    def modified(self) -> int:
        return self.refresh().contexts[MODIFIED]


def configmap_path(index: int | None = None) -> str:
    base = f"/api/v1/namespaces/{WATCHED_NAMESPACE}/configmaps"
    return base if index is None else f"{base}/cm-{index:05d}"


def create_configmaps(api: Api, first: int, last: int) -> None:
    for index in range(first, last):
        api.create(configmap_path(), {"metadata": {"name": f"cm-{index:05d}"},
                                      "data": {"value": "0", "payload": PAYLOAD}})


def set_value(api: Api, index: int, value: str) -> None:
    api.merge_patch(configmap_path(index % FIRST_OBJECTS), {"data": {"value": value}})


def start_watching(sandbox: Sandbox, modules: Path, runs_file: Path, keep_full: bool,
                   objects: int) -> tuple[Operator, RunLog, float]:
    """Start the operator; it, its run log, and seconds from start until the hook recorded a
    Synchronization of `objects` objects (the operator is ready by then as well)."""
    runs_file.unlink(missing_ok=True)
    log = RunLog(runs_file)
    operator = Operator(sandbox, modules, {"BENCH_RUNS_FILE": str(runs_file),
                                           "BENCH_KEEP_FULL_OBJECTS": str(keep_full).lower()})
    started = time.perf_counter()
    operator.start()
    try:
        operator.wait(f"a Synchronization of {objects} objects",
                      lambda: log.refresh().synced_objects == objects, START_TIMEOUT)
        synced = time.perf_counter() - started
        operator.wait("/readyz 200", operator.ready, START_TIMEOUT)
    except BenchError:
        operator.stop()
        raise
    return operator, log, synced


def event_figures(api: Api, operator: Operator, log: RunLog, events: int) -> list[Figure]:
    latencies = []
    for index in range(IDLE_CHANGES):
        before = log.modified()
        started = time.perf_counter()
        set_value(api, index, f"idle-{index}")
        operator.wait("the hook to record one Modified context",
                      lambda: log.modified() > before, EVENT_TIMEOUT)
        latencies.append(time.perf_counter() - started)

    before, runs_before = log.modified(), log.runs
    started = time.perf_counter()
    for index in range(events):
        set_value(api, index, f"live-{index}")
    sent = time.perf_counter() - started
    operator.wait(f"the hook to record {events} Modified contexts",
                  lambda: log.modified() >= before + events, EVENT_TIMEOUT)
    live, live_runs = events / (time.perf_counter() - started), log.runs - runs_before

    before, runs_before = log.modified(), log.runs
    operator.pause()
    try:
        for index in range(events):
            set_value(api, index, f"backlog-{index}")
    finally:
        operator.resume()
    started = time.perf_counter()
    operator.wait(f"the hook to record {events} Modified contexts of the backlog",
                  lambda: log.modified() >= before + events, EVENT_TIMEOUT)
    drained = events / (time.perf_counter() - started)
    time.sleep(1.0)  # any context recorded late would be an excess one
    return [
        Figure("one change → hook run (idle): median", statistics.median(latencies), "s"),
        Figure("one change → hook run (idle): max", max(latencies), "s"),
        Figure(f"{events} changes sent live → Modified contexts in hook runs", live, "events/s"),
        Figure("  rate the client sent them at", events / sent, "patches/s"),
        Figure("  hook runs they took (contexts combined)", live_runs, "count"),
        Figure(f"backlog of {events} changes (operator paused) → drained", drained, "events/s"),
        Figure("  hook runs they took (contexts combined)", log.runs - runs_before, "count"),
        Figure("contexts recorded beyond the changes", log.modified() - before - events, "count", "0"),
    ]


def run(workdir: Path, events: int, objects: int, compare_full: bool) -> list[Figure]:
    modules, runs_file = workdir / "modules", workdir / "runs.jsonl"
    write_module(modules)
    with Sandbox(workdir, history_size=objects + events + 2 * IDLE_CHANGES + 1000) as sandbox:
        api = sandbox.api
        api.create_namespace(WATCHED_NAMESPACE)
        create_configmaps(api, 0, FIRST_OBJECTS)
        operator, log, _ = start_watching(sandbox, modules, runs_file, False, FIRST_OBJECTS)
        try:
            figures = event_figures(api, operator, log, events)
            figures.append(Figure(f"operator RSS, {FIRST_OBJECTS} watched objects, after the events",
                                  operator.memory().rss_mib, "MiB"))
        finally:
            operator.stop()

        create_configmaps(api, FIRST_OBJECTS, objects)
        for keep_full in (False, True) if compare_full else (False,):
            operator, _, synced = start_watching(sandbox, modules, runs_file, keep_full, objects)
            memory = operator.memory()
            operator.stop()
            setting = f"{objects} objects, keepFullObjectsInMemory={str(keep_full).lower()}"
            target = "" if keep_full else "< 250 MiB"
            figures += [
                Figure(f"{setting}: start → Synchronization", synced, "s"),
                Figure(f"{setting}: RSS", memory.rss_mib, "MiB", target),
                Figure(f"{setting}: peak RSS", memory.peak_mib, "MiB", target),
            ]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="changes sent in the burst (default 2000)")
    parser.add_argument("--objects", type=int, default=10_000, help="watched objects for the memory "
                        "figure (default 10000)")
    parser.add_argument("--quick", action="store_true", help="500 events, and no "
                        "keepFullObjectsInMemory: true comparison")
    add_output_options(parser, "the module, run file and logs")
    args = parser.parse_args(argv)
    events = 500 if args.quick else args.events
    if events < 1 or args.objects < FIRST_OBJECTS:
        parser.error(f"--events must be at least 1 and --objects at least {FIRST_OBJECTS}")
    return run_benchmark(parser, args, "bindings_bench",
                         "kubernetes bindings: ConfigMaps with a jqFilter, sandbox API server",
                         lambda workdir: run(workdir, events, args.objects, not args.quick))


if __name__ == "__main__":
    sys.exit(main())
