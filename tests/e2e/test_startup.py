"""Start-up on the example modules: objects created, every module converged with its release,
hooks and conditions, GlobalConfig counts, `/readyz`, `/metrics` (hook CPU and memory, binding
counts, queue waits and operations included), Events, `kubectl get modules`;
a restart that adds no Helm revision; a module removed from disk is purged and shown Unknown."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from e2e_support import ROOT, Cluster, OperatorHandle, condition, hook

MIB = 1024 * 1024
EXAMPLES = ("echo-server", "patched-config", "python-hook", "dependent", "hooks-only")
CHARTED = ("echo-server", "patched-config", "python-hook", "dependent")

pytestmark = pytest.mark.e2e


def all_ready(cluster: Cluster) -> bool:
    return all(cluster.module(name).get("status", {}).get("phase") == "Ready" for name in EXAMPLES)


def test_startup_converges_the_example_modules(cluster: Cluster) -> None:
    operator = cluster.operator()
    operator.wait_ready()
    cluster.wait("every example module Ready", lambda: all_ready(cluster))

    for name in CHARTED:
        status = cluster.module(name)["status"]
        assert status["release"]["revision"] == 1, name
        assert status["release"]["status"] == "deployed"
        assert status["observedGeneration"] == 1
        assert condition(cluster.module(name), "HelmReleased")["status"] == "True"
        assert cluster.release_revisions(name) == [1]
    echo = cluster.module("echo-server")
    assert echo["spec"] == {}, "the operator creates Module objects with an empty spec"
    assert echo["status"]["weight"] == 10
    assert condition(echo, "Enabled")["reason"] == "Default"
    assert condition(echo, "Ready")["observedGeneration"] == 1
    dependent = cluster.module("dependent")
    assert condition(dependent, "Enabled")["reason"] == "ModulesValues"

    python_hook = hook(cluster.module("python-hook"), "hooks/count_words.py")
    assert python_hook["bindings"] == ["onStartup", "beforeHelm", "afterHelm"]
    assert python_hook["lastResult"] == "Succeeded"
    assert python_hook["runs"] == 3 and python_hook["failures"] == 0
    hooks_only = cluster.module("hooks-only")
    assert "release" not in hooks_only["status"]
    assert hook(hooks_only, "hooks/lifecycle.sh")["runs"] == 2   # onStartup + beforeHelm

    cluster.wait("GlobalConfig counts", lambda: cluster.global_config()["status"]["modules"]
                 == {"total": 5, "enabled": 5, "ready": 5, "failed": 0})
    global_status = cluster.global_config()["status"]
    assert global_status["phase"] == "Ready"
    assert {h["name"]: h["runs"] for h in global_status["hooks"]} == {
        "startup.sh": 1, "before-all.sh": 1}

    table = cluster.kubectl("get", "modules")
    assert table.split("\n")[0].split() == ["NAME", "ENABLED", "READY", "PHASE", "REVISION", "AGE"]
    row = next(line.split() for line in table.splitlines() if line.startswith("echo-server"))
    assert row[1:5] == ["True", "True", "Ready", "1"]

    described = cluster.kubectl("describe", "module", "echo-server")
    assert "InstallSucceeded" in described

    code, metrics = operator.http("/metrics")
    assert code == 200
    for name in ("addon_operator_module_run_seconds", "addon_operator_module_hook_run_seconds",
                 "addon_operator_module_helm_seconds", "addon_operator_helm_operation_seconds",
                 "addon_operator_tasks_queue_length", "addon_operator_convergence_seconds",
                 "addon_operator_live_ticks"):
        assert name in metrics, name
    assert 'addon_operator_module_run_seconds_count{activation="OperatorStartup",module="echo-server"} 1.0' \
        in metrics
    assert operator.http("/healthz")[0] == 200
    assert_resource_and_queue_metrics(operator)


def assert_resource_and_queue_metrics(operator: OperatorHandle) -> None:
    """Hook CPU and peak memory, `binding_count` and the queue metrics of the start-up."""
    samples = operator.samples()

    def value(name: str, **labels: str) -> float | None:
        return samples.get((f"addon_operator_{name}", frozenset(labels.items())))

    assert value("binding_count", module="python-hook", hook="hooks/count_words.py") == 3
    assert value("binding_count", module="", hook="startup.sh") == 1
    words = {"module": "python-hook", "hook": "hooks/count_words.py", "binding": "beforeHelm",
             "queue": "main", "activation": "OperatorStartup"}
    assert value("module_hook_run_user_cpu_seconds_count", **words) == 1
    assert 0 < value("module_hook_run_user_cpu_seconds_sum", **words) < 10
    assert value("module_hook_run_sys_cpu_seconds_count", **words) == 1
    assert MIB < value("module_hook_run_max_rss_bytes", **words) < 4096 * MIB
    startup = {"hook": "startup.sh", "binding": "onStartup", "queue": "main",
               "activation": "OperatorStartup"}
    assert value("global_hook_run_user_cpu_seconds_count", **startup) == 1
    assert value("global_hook_run_max_rss_bytes", **startup) > MIB
    waited = value("task_wait_in_queue_seconds_total", module="echo-server", hook="",
                   binding="ModuleRun", queue="main")
    assert waited is not None and 0 <= waited < 60
    assert value("tasks_queue_action_duration_seconds_count", queue_name="main",
                 queue_action="AddLast") >= 1


def test_restart_adds_no_revision(cluster: Cluster) -> None:
    operator = cluster.operator()
    operator.wait_ready()
    cluster.wait("every example module Ready", lambda: all_ready(cluster))
    before = {name: cluster.module(name)["status"]["conditions"] for name in CHARTED}
    assert operator.stop() == 0, "SIGTERM stops the operator cleanly"

    operator.start().wait_ready()
    cluster.wait("hooks ran again after the restart",
                 lambda: hook(cluster.module("python-hook"), "hooks/count_words.py")["runs"] == 3
                 and all_ready(cluster))
    for name in CHARTED:
        assert cluster.release_revisions(name) == [1], name
        status = cluster.module(name)["status"]
        assert status["release"]["revision"] == 1
        assert condition(cluster.module(name), "HelmReleased")["reason"] == "UpToDate"
        enabled_before = next(c for c in before[name] if c["type"] == "Enabled")
        assert condition(cluster.module(name), "Enabled")["lastTransitionTime"] == \
            enabled_before["lastTransitionTime"], "an unchanged condition keeps its transition time"
    assert "upgraded" not in operator.log() and "installed to revision" not in operator.log()


def test_module_removed_from_disk_is_purged_and_unknown(cluster: Cluster, tmp_path: Path) -> None:
    operator = cluster.operator()
    operator.wait_ready()
    cluster.wait("every example module Ready", lambda: all_ready(cluster))
    operator.stop()

    modules = tmp_path / "modules-without-python-hook"
    shutil.copytree(ROOT / "modules", modules)
    shutil.rmtree(modules / "030-python-hook")
    cluster.operator(modules_dir=modules).wait_ready()
    cluster.wait("python-hook release purged", lambda: cluster.release_revisions("python-hook") == [])
    cluster.wait("python-hook Unknown",
                 lambda: cluster.module("python-hook")["status"]["phase"] == "Unknown")
    assert condition(cluster.module("python-hook"), "Stalled")["reason"] == "UnknownModule"
    assert cluster.release_revisions("echo-server") == [1]
    assert cluster.global_config()["status"]["modules"]["total"] == 4
