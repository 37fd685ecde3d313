"""Invalid settings never reach the values (docs/differences.md, Failure isolation and
timeouts): they are kept for the status only, and hooks, enabled scripts and Helm go on with the
last good settings."""

from __future__ import annotations

import threading
from pathlib import Path

from prometheus_client import CollectorRegistry

from addon_operator.discovery import discover
from addon_operator.kube import MODIFIED, WatchEvent
from addon_operator.metrics import OperatorMetrics
from addon_operator.runtime.controllers import Controllers
from addon_operator.runtime.state import RuntimeState, take_settings
from addon_operator.runtime.status_writer import StatusWriter
from addon_operator.values import Schemas

from runtime_fakes import FakeKube, hook_script, lifecycle_hooks, state_of, write_module

SCHEMA = "type: object\nproperties:\n  replicas:\n    type: integer\n    default: 1\n"
VALUES_SCHEMA = ("x-extend:\n  schema: config-values.yaml\ntype: object\n"
                 "properties:\n  stamp:\n    type: string\n")
STAMP = """echo '{"op":"add","path":"/demo/stamp","value":"x"}' >> "$VALUES_JSON_PATCH_PATH" """


def demo_state(modules_root: Path, hooks: dict[str, str] | None = None) -> RuntimeState:
    write_module(modules_root, "010-demo", config_schema=SCHEMA, hooks=hooks)
    (modules_root / "010-demo" / "openapi" / "values.yaml").write_text(VALUES_SCHEMA)
    return state_of(modules_root)


def test_invalid_module_settings_leave_the_values_at_the_last_good_ones(modules_root) -> None:
    state = demo_state(modules_root)
    demo = state.modules["demo"]
    take_settings(demo, {"replicas": 2})
    take_settings(demo, {"replicas": "many"})
    assert demo.settings == {"replicas": "many"}, "kept for the status"
    assert demo.settings_problems() == ["settings.replicas: must be of type integer"]
    assert state.module_inputs(demo).module_values() == {"replicas": 2}
    values, config = state.module_inputs(demo).documents()
    assert values["demo"] == {"replicas": 2} and config["demo"] == {"replicas": 2}


def test_invalid_settings_from_the_start_give_the_defaults(modules_root) -> None:
    state = demo_state(modules_root)
    demo = state.modules["demo"]
    take_settings(demo, {"replicas": "many"})
    assert demo.good_settings is None and state.module_inputs(demo).module_values() == {"replicas": 1}


def test_hook_values_patch_succeeds_on_the_last_good_values(modules_root, tmp_path,
                                                            kube: FakeKube) -> None:
    state = demo_state(modules_root, {"stamp.sh": hook_script(
        '{"configVersion":"v1","beforeHelm":1}', STAMP)})
    demo = state.modules["demo"]
    take_settings(demo, {"replicas": 2})
    take_settings(demo, {"replicas": "many"})
    hooks = lifecycle_hooks(state, kube, tmp_path)
    hooks.ensure_module_hooks(demo)
    hooks.run_module(demo, state.module_inputs(demo), "beforeHelm", "Schedule")
    assert str(demo.status.hooks["hooks/stamp.sh"].last_result) == "Succeeded"
    assert state.module_inputs(demo).module_values() == {"replicas": 2, "stamp": "x"}
    assert kube.events == [], "the hook is not blamed for the user's settings"


def test_invalid_global_settings_leave_the_global_values_at_the_last_good_ones(
        modules_root) -> None:
    discovery = discover([modules_root], None)
    schemas = Schemas.load({"type": "object", "properties": {"size": {"type": "integer"}}},
                           None, owner="global")
    state = RuntimeState(discovery, schemas, [], 3)
    g = state.global_
    take_settings(g, {"size": 2})
    take_settings(g, {"size": "big"})
    assert g.settings == {"size": "big"}
    assert g.settings_problems() == ["settings.size: must be of type integer"]
    assert state.global_values() == {"size": 2}
    assert state.global_inputs().documents() == ({"global": {"size": 2}}, {"global": {"size": 2}})


def test_controllers_keep_the_last_good_settings_of_a_module(modules_root,
                                                             kube: FakeKube) -> None:
    state = demo_state(modules_root)
    ctl = Controllers(kube, state, StatusWriter(kube, state), request=lambda r: None,
                      stop=threading.Event(), sleep=lambda s: None,
                      metrics=OperatorMetrics(CollectorRegistry()))
    for generation, settings in ((1, {"replicas": 3}), (2, {"replicas": "many"})):
        ctl.on_module_event(WatchEvent(MODIFIED, {
            "metadata": {"name": "demo", "generation": generation},
            "spec": {"settings": settings}}))
    demo = state.modules["demo"]
    assert (demo.settings, demo.good_settings) == ({"replicas": "many"}, {"replicas": 3})
