"""Lifecycle hook runs: order, global `*Enabled` patches, schema-checked values patches,
config-values patches refused, hook states and metrics (CPU, memory, `binding_count`)."""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import partial

import pytest
from prometheus_client import CollectorRegistry

from addon_operator.metrics import HookMetrics, OperatorMetrics
from addon_operator.runner import Completed, Usage, run
from addon_operator.runtime.events import EventRecorder
from addon_operator.runtime.hook_runs import LifecycleHooks
from addon_operator.runtime.errors import RunFailed

from runtime_fakes import (
    FakeKube, global_state, hook_script, lifecycle_hooks, state_of, write_module,
)

MIB = 1024 * 1024
ADD = """echo '{{"op":"add","path":"{path}","value":{value}}}' >> "$VALUES_JSON_PATCH_PATH" """


def test_global_hooks_run_in_order_and_set_dynamic_enablement(tmp_path, modules_root,
                                                               kube: FakeKube) -> None:
    write_module(modules_root, "010-cert-manager")
    trace = tmp_path / "trace"
    state = global_state(tmp_path, modules_root, {
        "b.sh": hook_script('{"configVersion":"v1","beforeAll":1}', f"echo b >> {trace}"),
        "a.sh": hook_script('{"configVersion":"v1","beforeAll":1}', f"echo a >> {trace}; "
                            + ADD.format(path="/certManagerEnabled", value="false")),
        "first.sh": hook_script('{"configVersion":"v1","beforeAll":0}',
                                f"echo first >> {trace}; " + ADD.format(path="/global/size",
                                                                         value=3)),
    })
    hooks = lifecycle_hooks(state, kube, tmp_path)
    hooks.configure_global()
    hooks.run_global("beforeAll", "OperatorStartup")
    assert trace.read_text().split() == ["first", "a", "b"]
    assert state.global_.dynamic_enabled == {"cert-manager": False}
    assert state.global_values() == {"size": 3}
    assert {name: h.runs for name, h in state.global_.status.hooks.items()} == \
        {"a.sh": 1, "b.sh": 1, "first.sh": 1}


def test_values_patch_breaking_the_schema_fails_and_is_not_stored(tmp_path, modules_root,
                                                                  kube: FakeKube) -> None:
    state = global_state(tmp_path, modules_root, {"bad.sh": hook_script(
        '{"configVersion":"v1","afterAll":1}', ADD.format(path="/global/size", value='"big"'))})
    hooks = lifecycle_hooks(state, kube, tmp_path)
    hooks.configure_global()
    with pytest.raises(RunFailed) as failed:
        hooks.run_global("afterAll", "OperatorStartup")
    assert failed.value.reason == "ValuesInvalid"
    assert "values.global.size" in failed.value.message
    assert state.global_.patches == []
    assert str(state.global_.status.hooks["bad.sh"].last_result) == "Failed"
    assert kube.events[-1][:2] == ("global", "HookFailed")


def test_config_values_patch_is_refused(tmp_path, modules_root, kube: FakeKube) -> None:
    body = """echo '{"op":"add","path":"/global/x","value":1}' >> "$CONFIG_VALUES_JSON_PATCH_PATH" """
    state = global_state(tmp_path, modules_root, {"cfg.sh": hook_script(
        '{"configVersion":"v1","beforeAll":1}', body)})
    hooks = lifecycle_hooks(state, kube, tmp_path)
    hooks.configure_global()
    with pytest.raises(RunFailed, match="never written by the operator"):
        hooks.run_global("beforeAll", "OperatorStartup")
    assert state.global_.settings is None and state.global_.patches == []


def test_hook_run_metrics_carry_the_queue_the_run_came_from(tmp_path, modules_root,
                                                            kube: FakeKube) -> None:
    state = global_state(tmp_path, modules_root, {
        "watch.sh": hook_script('{"configVersion":"v1","schedule":[{"crontab":"* * * * *",'
                                '"queue":"fastlane"}]}', "true")})
    hooks = lifecycle_hooks(state, kube, tmp_path)
    hooks.configure_global()
    [spec] = state.global_.hooks
    hooks.run_one(spec, None, state.global_inputs(), [{"binding": "schedule"}], "schedule",
                  "Schedule", queue="fastlane")
    registry = hooks._metrics.registry
    labels = {"hook": "watch.sh", "binding": "schedule", "queue": "fastlane",
              "activation": "Schedule"}
    assert registry.get_sample_value("addon_operator_global_hook_run_seconds_count", labels) == 1
    for resource in ("user_cpu", "sys_cpu"):
        assert registry.get_sample_value(
            f"addon_operator_global_hook_run_{resource}_seconds_count", labels) == 1
    assert registry.get_sample_value("addon_operator_global_hook_run_max_rss_bytes",
                                     labels) > MIB


def measured(argv, **kwargs) -> Completed:
    """The real runner, reporting fixed resource figures for hook runs."""
    done = run(argv, **kwargs)
    return done if "--config" in argv else replace(done, usage=Usage(0.25, 0.125, 4 * MIB))


def test_module_hook_cpu_and_memory_reach_the_metrics_failed_runs_too(
        tmp_path, modules_root, kube: FakeKube) -> None:
    write_module(modules_root, "010-demo", hooks={
        "ok.sh": hook_script('{"configVersion":"v1","beforeHelm":1}', "true"),
        "bad.sh": hook_script('{"configVersion":"v1","afterHelm":1}', "exit 1")})
    state = state_of(modules_root)
    hooks = LifecycleHooks(state, tmp_dir=tmp_path / "hook-files", timeout=10,
                           env={"PATH": "/usr/bin:/bin"}, events=EventRecorder(kube),
                           metrics=OperatorMetrics(CollectorRegistry()),
                           hook_metrics=HookMetrics(CollectorRegistry()), patcher=kube,
                           runner=measured)
    runtime = state.modules["demo"]
    hooks.ensure_module_hooks(runtime)
    inputs = state.module_inputs(runtime)
    hooks.run_module(runtime, inputs, "beforeHelm", "")
    with pytest.raises(RunFailed):
        hooks.run_module(runtime, inputs, "afterHelm", "")
    registry = hooks._metrics.registry
    for hook, binding in (("hooks/ok.sh", "beforeHelm"), ("hooks/bad.sh", "afterHelm")):
        labels = {"module": "demo", "hook": hook, "binding": binding, "queue": "main",
                  "activation": ""}
        sample = partial(registry.get_sample_value, labels=labels)
        assert sample("addon_operator_module_hook_run_user_cpu_seconds_sum") == 0.25
        assert sample("addon_operator_module_hook_run_sys_cpu_seconds_sum") == 0.125
        assert sample("addon_operator_module_hook_run_max_rss_bytes") == 4 * MIB


def test_binding_count_is_set_when_hooks_are_configured(tmp_path, modules_root,
                                                        kube: FakeKube) -> None:
    write_module(modules_root, "010-demo", hooks={"h.sh": hook_script(
        '{"configVersion":"v1","onStartup":1,"beforeHelm":1,"afterDeleteHelm":1,'
        '"kubernetes":[{"kind":"Pod"},{"kind":"Secret"}]}')})
    state = global_state(tmp_path, modules_root, {
        "g.sh": hook_script('{"configVersion":"v1","beforeAll":1,"afterAll":1,"schedule":'
                            '[{"crontab":"* * * * *"},{"crontab":"*/5 * * * *"}]}'),
        "startup.sh": hook_script('{"configVersion":"v1","onStartup":1}')})
    hooks = lifecycle_hooks(state, kube, tmp_path)
    hooks.configure_global()
    registry = hooks._metrics.registry

    def count(module: str, hook: str) -> float | None:
        return registry.get_sample_value("addon_operator_binding_count",
                                         {"module": module, "hook": hook})

    assert (count("", "g.sh"), count("", "startup.sh")) == (4, 1)
    assert count("demo", "hooks/h.sh") is None, "module hooks count once configured"
    hooks.ensure_module_hooks(state.modules["demo"])
    assert count("demo", "hooks/h.sh") == 5


class OverlapProbe:
    """A runner that notes how many hook runs (not `--config` calls) overlap: each run waits a
    little for a second one to start, so overlapping runs are seen without a race."""

    def __init__(self) -> None:
        self.active = self.most = 0
        self._lock = threading.Lock()
        self._overlap = threading.Event()

    def __call__(self, argv, **kwargs):
        if "--config" in argv:
            return run(argv, **kwargs)
        with self._lock:
            self.active += 1
            self.most = max(self.most, self.active)
            if self.active > 1:
                self._overlap.set()
        self._overlap.wait(2)
        try:
            return run(argv, **kwargs)
        finally:
            with self._lock:
                self.active -= 1


def test_global_hooks_run_at_once_and_keep_both_patches(tmp_path, modules_root,
                                                        kube: FakeKube) -> None:
    write_module(modules_root, "010-cert-manager")
    state = global_state(tmp_path, modules_root, {
        "size.sh": hook_script('{"configVersion":"v1","afterAll":1}',
                               ADD.format(path="/global/size", value=3)),
        "flag.sh": hook_script('{"configVersion":"v1","afterAll":1}',
                               ADD.format(path="/certManagerEnabled", value="true")),
    })
    probe = OverlapProbe()
    hooks = LifecycleHooks(state, tmp_dir=tmp_path / "hook-files", timeout=10,
                           env={"PATH": "/usr/bin:/bin"}, events=EventRecorder(kube),
                           metrics=OperatorMetrics(CollectorRegistry()),
                           hook_metrics=HookMetrics(CollectorRegistry()), patcher=kube,
                           runner=probe)
    hooks.configure_global()
    runners = [threading.Thread(target=hooks.run_one, args=(
        spec, None, state.global_inputs(), hooks.lifecycle(spec, None, "afterAll"), "afterAll",
        "Schedule"))
        for spec in state.global_.hooks]
    for thread in runners:
        thread.start()
    for thread in runners:
        thread.join(10)
    assert probe.most == 2, "global hooks in different queues must not wait for each other"
    assert state.global_values() == {"size": 3}
    assert state.global_.dynamic_enabled == {"cert-manager": True}
    assert sorted(h.runs for h in state.global_.status.hooks.values()) == [1, 1]
