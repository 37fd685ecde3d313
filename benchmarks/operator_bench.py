"""Operator runtime benchmark (issue 4; not a test): 50 small modules on the sandbox, real helm.

Run: `python benchmarks/operator_bench.py [--modules 50] [--changes 10] [--quick] [--json OUT]`
(`run.py` runs it with the other benchmarks). It generates the modules in a temporary directory
(each a chart with one ConfigMap, a config-values schema and one bash `beforeHelm` hook that
derives a value with jq; weights in groups of five, so equal-weight runs go in parallel), starts
`python -m kube_sandbox` and the real `addon-operator run`, and prints:

- cold converge: operator start → `/readyz` 200 and every Module `Ready` with revision 1;
- warm restart with every module unchanged: start → `/readyz` 200 and every Module `Ready`,
  and the Helm upgrades it caused (revisions counted from Helm's release Secrets);
- settings change → `Ready` with the new revision, median and max over `--changes` changes of
  different modules, and the part of it spent in the module's Helm phase (from `/metrics`);
- the operator's peak RSS (VmHWM) in both runs.
The figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from bench_support import (
    Api, Figure, Operator, Sandbox, add_output_options, module_ready, run_benchmark,
)

GROUP_SIZE = 5          # modules per weight
SETTLE_SECONDS = 2.0    # after a warm restart, time for late Helm upgrades to show up
CONVERGE_TIMEOUT = 600.0
CHANGE_TIMEOUT = 60.0
HELM_SECONDS = "addon_operator_module_helm_seconds_sum"
HELM_OPERATION = "addon_operator_helm_operation_seconds"
HOOK_RUN = "addon_operator_module_hook_run_seconds"

CHART = """apiVersion: v2
name: {name}
description: Benchmark module {name}.
version: 0.1.0
"""
CONFIG_VALUES = """type: object
properties:
  message:
    type: string
    minLength: 1
    default: hello
"""
VALUES_SCHEMA = """x-extend:
  schema: config-values.yaml
type: object
properties:
  internal:
    type: object
    default: {}
    x-required-for-helm: [greeting]
    properties:
      greeting:
        type: string
"""
TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  message: {{{{ .Values.{key}.message | quote }}}}
  greeting: {{{{ .Values.{key}.internal.greeting | quote }}}}
"""
HOOK = """#!/usr/bin/env bash
# beforeHelm: derives the greeting the chart renders from the settings and a global value.
set -euo pipefail
if [[ ${{1:-}} == "--config" ]]; then
  echo '{{"configVersion": "v1", "beforeHelm": 10}}'
  exit 0
fi
jq -c '{{op: "add", path: "/{key}/internal/greeting",
        value: "\\(.{key}.message) from \\(.global.clusterName)"}}' "$VALUES_PATH" >>"$VALUES_JSON_PATCH_PATH"
"""


def module_names(count: int) -> list[tuple[str, str]]:
    """(name, values key) of `count` modules: bench-aa, bench-ab, ... (letters keep the
    kebab ↔ camel round trip exact)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    names = [f"bench-{letters[i // 26]}{letters[i % 26]}" for i in range(count)]
    return [(name, "bench" + name[len("bench-"):].capitalize()) for name in names]


def write_modules(root: Path, count: int) -> list[str]:
    """Write `count` modules and the common values.yaml under `root`; their names."""
    modules = module_names(count)
    lines = ["global:", "  clusterName: bench"] + [f"{key}Enabled: true" for _, key in modules]
    root.mkdir(parents=True)
    (root / "values.yaml").write_text("\n".join(lines) + "\n")
    for index, (name, key) in enumerate(modules):
        module = root / f"{100 + 10 * (index // GROUP_SIZE)}-{name}"
        for sub in ("openapi", "templates", "hooks"):
            (module / sub).mkdir(parents=True)
        (module / "Chart.yaml").write_text(CHART.format(name=name))
        (module / "openapi" / "config-values.yaml").write_text(CONFIG_VALUES)
        (module / "openapi" / "values.yaml").write_text(VALUES_SCHEMA)
        (module / "templates" / "configmap.yaml").write_text(TEMPLATE.format(name=name, key=key))
        hook = module / "hooks" / "greeting.sh"
        hook.write_text(HOOK.format(key=key))
        hook.chmod(0o755)
    return [name for name, _ in modules]


def all_ready(api: Api, names: list[str]) -> bool:
    ready = {m["metadata"]["name"] for m in api.modules() if module_ready(m)}
    return ready.issuperset(names)


def converge(operator: Operator, api: Api, names: list[str]) -> tuple[float, float, float]:
    """Start the operator; seconds to `/healthz` 200 (the process is up), to `/readyz` 200 and
    to every Module Ready."""
    started = time.perf_counter()
    operator.start()
    operator.wait("/healthz 200", lambda: operator.get("/healthz")[0] == 200, CONVERGE_TIMEOUT)
    to_healthz = time.perf_counter() - started
    operator.wait("/readyz 200", operator.ready, CONVERGE_TIMEOUT)
    to_readyz = time.perf_counter() - started
    operator.wait(f"all {len(names)} Modules Ready", lambda: all_ready(api, names), CONVERGE_TIMEOUT)
    return to_healthz, to_readyz, time.perf_counter() - started


def mean_seconds(operator: Operator, name: str, **labels: str) -> float:
    """Mean of a histogram on /metrics over the samples matching `labels` (0 when empty)."""
    count = operator.metric_sum(f"{name}_count", **labels)
    return operator.metric_sum(f"{name}_sum", **labels) / count if count else 0.0


def warm_breakdown(operator: Operator) -> list[Figure]:
    """Where a warm module run spends its time, per module, from the operator's histograms."""
    return [Figure(f"  mean per module: helm {operation}",
                   mean_seconds(operator, HELM_OPERATION, operation=operation), "s")
            for operation in ("template", "check-upgrade")] + [
        Figure("  mean per module: beforeHelm hook run", mean_seconds(operator, HOOK_RUN), "s")]


def change_latency(operator: Operator, api: Api, name: str, message: str) -> tuple[float, float]:
    """Patch `name`'s settings; seconds until it is Ready with the next revision, and the
    seconds its Helm phase took in that run."""
    revision = api.module(name)["status"]["release"]["revision"]
    helm_before = operator.metric_sum(HELM_SECONDS, module=name)
    started = time.perf_counter()
    api.patch_module_spec(name, {"settings": {"message": message}})
    operator.wait(f"{name} Ready with revision {revision + 1}",
                  lambda: module_ready(api.module(name), revision + 1), CHANGE_TIMEOUT)
    latency = time.perf_counter() - started
    operator.wait(f"the Helm phase of {name} in /metrics",
                  lambda: operator.metric_sum(HELM_SECONDS, module=name) > helm_before, CHANGE_TIMEOUT)
    return latency, operator.metric_sum(HELM_SECONDS, module=name) - helm_before


def run(workdir: Path, count: int, changes: int) -> list[Figure]:
    names = write_modules(workdir / "modules", count)
    with Sandbox(workdir) as sandbox:
        api = sandbox.api
        operator = Operator(sandbox, workdir / "modules")
        try:
            cold_healthz, cold_readyz, cold_ready = converge(operator, api, names)
            cold_memory = operator.memory()
            operator.stop()
            before = api.release_revisions()

            warm_healthz, warm_readyz, warm_ready = converge(operator, api, names)
            breakdown = warm_breakdown(operator)
            time.sleep(SETTLE_SECONDS)
            upgrades = sum(api.release_revisions().values()) - sum(before.values())

            latencies, helm_times = [], []
            for index in range(changes):
                latency, helm = change_latency(operator, api, names[(index * 7) % count], f"change {index}")
                latencies.append(latency)
                helm_times.append(helm)
            overheads = [lat - helm for lat, helm in zip(latencies, helm_times)]
            warm_memory = operator.memory()
        finally:
            operator.stop()
    return [
        Figure("cold start: process start → /healthz 200", cold_healthz, "s"),
        Figure(f"cold converge, {count} modules: start → /readyz 200", cold_readyz, "s"),
        Figure(f"cold converge, {count} modules: start → every Module Ready", cold_ready, "s"),
        Figure(f"warm restart, {count} unchanged modules: start → /readyz 200", warm_readyz, "s",
               "< 10 s"),
        Figure("warm restart: start → every Module Ready", warm_ready, "s", "< 10 s"),
        Figure("  of which process start → /healthz 200", warm_healthz, "s"),
        *breakdown,
        Figure("warm restart: Helm upgrades caused (new revisions)", upgrades, "count", "0"),
        Figure(f"settings change → Ready, new revision: median of {changes}",
               statistics.median(latencies), "s"),
        Figure("settings change → Ready, new revision: max", max(latencies), "s"),
        Figure("  of which the module's Helm phase: median", statistics.median(helm_times), "s"),
        Figure("  latency minus the Helm phase: median", statistics.median(overheads), "s", "< 1 s"),
        Figure("  latency minus the Helm phase: max", max(overheads), "s", "< 1 s"),
        Figure("operator peak RSS (VmHWM), cold converge", cold_memory.peak_mib, "MiB", "< 150 MiB"),
        Figure("operator peak RSS (VmHWM), warm restart + changes", warm_memory.peak_mib, "MiB",
               "< 150 MiB"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--modules", type=int, default=50, help="modules to generate (default 50)")
    parser.add_argument("--changes", type=int, default=10, help="settings changes timed (default 10)")
    parser.add_argument("--quick", action="store_true", help="20 modules and 5 changes")
    add_output_options(parser, "the modules and logs")
    args = parser.parse_args(argv)
    count, changes = (20, 5) if args.quick else (args.modules, args.changes)
    if not 1 <= count <= 26 * 26 or changes < 1:
        parser.error("--modules must be 1..676 and --changes at least 1")
    return run_benchmark(parser, args, "operator_bench",
                         f"operator runtime: {count} modules, sandbox API server, real helm",
                         lambda workdir: run(workdir, count, changes))


if __name__ == "__main__":
    sys.exit(main())
