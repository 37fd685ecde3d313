"""Converge restart (as upstream): a GlobalConfig change while the start-up converge waits for
a slow module's run stops that converge; the fresh one runs every module, so the later weight
group runs once, not twice (once per converge), and only one converge completes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from e2e_support import Cluster, OperatorHandle, hook

pytestmark = [pytest.mark.e2e,
              pytest.mark.sandbox_only(reason="the slow hook waits for a file the test creates")]

SLOW = """#!/usr/bin/env bash
# beforeHelm: says it started, then waits until the test opens the gate.
if [[ ${1:-} == --config ]]; then echo '{"configVersion":"v1","beforeHelm":1}'; exit 0; fi
touch "$GATE_DIR/started"
for _ in $(seq 600); do [[ -e "$GATE_DIR/open" ]] && exit 0; sleep 0.1; done
echo "the gate never opened" >&2
exit 1
"""
COUNTED = """#!/usr/bin/env bash
if [[ ${1:-} == --config ]]; then echo '{"configVersion":"v1","beforeHelm":1}'; exit 0; fi
"""


def write_modules(root: Path) -> Path:
    for dirname, script in (("010-slow", SLOW), ("020-later", COUNTED)):
        path = root / dirname / "hooks" / "hook.sh"
        path.parent.mkdir(parents=True)
        path.write_text(script)
        path.chmod(0o755)
    (root / "values.yaml").write_text("slowEnabled: true\nlaterEnabled: true\n")
    return root


def runs(cluster: Cluster, module: str) -> int:
    return int(hook(cluster.module(module), "hooks/hook.sh")["runs"])


def main_queue_empty(operator: OperatorHandle) -> bool:
    _, text = operator.http("/metrics")
    found = re.search(r'^addon_operator_tasks_queue_length\{queue="main"\} (\S+)$', text, re.M)
    return found is not None and float(found.group(1)) == 0


def test_a_global_config_change_restarts_the_running_converge(cluster: Cluster,
                                                              tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    operator = cluster.operator(modules_dir=write_modules(tmp_path / "modules"),
                                global_hooks_dir=None, GATE_DIR=str(gate))
    cluster.wait("the slow module's beforeHelm running", (gate / "started").exists)
    cluster.patch_global({"settings": {"note": "changed while converging"}})
    cluster.wait("the converge restarted", lambda: "restarting it first" in operator.log())
    (gate / "open").touch()
    operator.wait_ready()
    cluster.wait("both modules done and the queue empty", lambda: runs(cluster, "slow") == 2
                 and cluster.module("later")["status"]["phase"] == "Ready"
                 and main_queue_empty(operator))
    assert runs(cluster, "later") == 1, "the later weight group ran once, not twice"
    assert operator.log().count("converge done in") == 1, operator.log()[-3000:]
