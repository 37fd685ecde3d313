"""Lifecycle hook runs: order, global `*Enabled` patches, schema-checked values patches,
config-values patches refused, hook states and metrics."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from addon_operator.discovery import discover
from addon_operator.metrics import HookMetrics, OperatorMetrics
from addon_operator.runner import run
from addon_operator.runtime.events import EventRecorder
from addon_operator.runtime.hook_runs import LifecycleHooks
from addon_operator.runtime.errors import RunFailed
from addon_operator.runtime.state import RuntimeState
from addon_operator.values import Schemas

from runtime_fakes import FakeKube, hook_script, lifecycle_hooks, write_module

ADD = """echo '{{"op":"add","path":"{path}","value":{value}}}' >> "$VALUES_JSON_PATCH_PATH" """


def global_state(tmp_path: Path, modules_root: Path, hooks: dict[str, str]) -> RuntimeState:
    hooks_dir = tmp_path / "global-hooks"
    for name, body in hooks.items():
        path = hooks_dir / "hooks" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        path.chmod(0o755)
    (hooks_dir / "openapi").mkdir(parents=True)
    (hooks_dir / "openapi" / "values.yaml").write_text(
        "type: object\nproperties:\n  size:\n    type: integer\n")
    discovery = discover([modules_root], hooks_dir)
    g = discovery.global_
    return RuntimeState(discovery, Schemas.load(g.config_schema, g.values_schema, owner="global"),
                        [], 3)


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
    hooks.run_one(spec, None, [{"binding": "schedule"}], "schedule", "Schedule", queue="fastlane")
    registry = hooks._metrics.registry
    labels = {"hook": "watch.sh", "binding": "schedule", "queue": "fastlane",
              "activation": "Schedule"}
    assert registry.get_sample_value("addon_operator_global_hook_run_seconds_count", labels) == 1


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
        spec, None, hooks.lifecycle(spec, None, "afterAll"), "afterAll", "Schedule"))
        for spec in state.global_.hooks]
    for thread in runners:
        thread.start()
    for thread in runners:
        thread.join(10)
    assert probe.most == 2, "global hooks in different queues must not wait for each other"
    assert state.global_values() == {"size": 3}
    assert state.global_.dynamic_enabled == {"cert-manager": True}
    assert sorted(h.runs for h in state.global_.status.hooks.values()) == [1, 1]
