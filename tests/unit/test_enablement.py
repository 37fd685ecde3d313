"""Enablement (docs/modules.md, Enablement): each step, its reason, precedence, and the
enabled-script contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from addon_operator.enablement import (
    Decision,
    EnabledScriptRunner,
    Reason,
    ScriptResult,
    decide,
    parse_result,
)
from addon_operator.models import ChartKind, Discovery, GlobalDef, ModuleDef
from addon_operator.runner import Completed

SCRIPTS = Path(__file__).parent / "testdata" / "enablement"


def module(
    name: str,
    order: int = 10,
    *,
    default: bool | None = None,
    modules_values: bool | None = None,
    script: str | None = None,
    path: Path = SCRIPTS,
) -> ModuleDef:
    key = "".join(w if i == 0 else w.capitalize() for i, w in enumerate(name.split("-")))
    return ModuleDef(
        name=name,
        key=key,
        order=order,
        path=path,
        modules_dir=path.parent,
        chart=ChartKind.NONE,
        enabled_script=SCRIPTS / script if script else None,
        default_enabled=default,
        modules_values_enabled=modules_values,
    )


def discovery(*modules: ModuleDef) -> Discovery:
    return Discovery(modules=modules, global_=GlobalDef(hooks_dir=None))


def values_for(m: ModuleDef) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        {"global": {"clusterName": "dev"}, m.key: {"replicas": 1}},
        {"global": {}, m.key: {"replicas": 1}},
    )


class ScriptSpy:
    """Answers for named modules and records what each script was given."""

    def __init__(self, answers: dict[str, ScriptResult]) -> None:
        self.answers = answers
        self.calls: dict[str, dict[str, Any]] = {}

    def __call__(self, m: ModuleDef, values: dict[str, Any], config: dict[str, Any]) -> ScriptResult:
        self.calls[m.name] = values
        return self.answers[m.name]


def one(mod: ModuleDef, **kwargs: Any) -> Decision:
    args: dict[str, Any] = {"specs": {}, "dynamic": {}, "values_for": values_for, "run_script": None}
    args.update(kwargs)
    (only,) = decide(discovery(mod), **args)
    return only


def test_nothing_set_means_disabled_by_default() -> None:
    assert one(module("cert-manager")) == Decision(
        "cert-manager", False, "Default", "disabled by default: nothing sets certManagerEnabled"
    )


@pytest.mark.parametrize(
    ("mod", "kwargs", "enabled", "reason", "message"),
    [
        (module("a-b", default=True), {}, True, "Default",
         "enabled by aBEnabled in the module's values.yaml"),
        (module("a-b", modules_values=False), {}, False, "ModulesValues",
         "disabled by aBEnabled in the modules directory values.yaml"),
        (module("a-b"), {"dynamic": {"a-b": True}}, True, "GlobalHook",
         "enabled by a global hook (aBEnabled patch)"),
        (module("a-b"), {"specs": {"a-b": False}}, False, "ModuleSpec",
         "disabled by Module spec.enabled"),
    ],
)
def test_each_step_alone_decides_with_its_reason(
    mod: ModuleDef, kwargs: dict[str, Any], enabled: bool, reason: str, message: str
) -> None:
    assert one(mod, **kwargs) == Decision("a-b", enabled, reason, message)


def test_precedence_each_later_step_overrides_the_earlier_ones() -> None:
    mod = module("m", default=True, modules_values=False)
    assert one(mod).reason == Reason.MODULES_VALUES and not one(mod).enabled
    d = one(mod, dynamic={"m": True})
    assert (d.enabled, d.reason) == (True, "GlobalHook")
    d = one(mod, dynamic={"m": True}, specs={"m": False})
    assert (d.enabled, d.reason) == (False, "ModuleSpec")
    d = one(module("m", default=False), dynamic={"m": False}, specs={"m": True})
    assert (d.enabled, d.reason) == (True, "ModuleSpec")


def test_unset_spec_has_no_opinion() -> None:
    d = one(module("m", modules_values=True), specs={"m": None})
    assert (d.enabled, d.reason) == (True, "ModulesValues")


def test_script_disables_with_its_reason() -> None:
    spy = ScriptSpy({"m": ScriptResult(False, "no database")})
    d = one(module("m", default=True, script="x"), run_script=spy)
    assert d == Decision(
        "m", False, "EnabledScript", "disabled by the enabled script: no database", "no database"
    )


def test_script_agreeing_keeps_the_earlier_reason() -> None:
    spy = ScriptSpy({"m": ScriptResult(True)})
    d = one(module("m", modules_values=True, script="x"), specs={"m": True}, run_script=spy)
    assert (d.enabled, d.reason, d.message) == (True, "ModuleSpec", "enabled by Module spec.enabled")


def test_script_may_only_disable_it_is_not_run_for_a_disabled_module() -> None:
    spy = ScriptSpy({"m": ScriptResult(True)})
    d = one(module("m", script="x"), run_script=spy)
    assert (d.enabled, d.reason) == (False, "Default")
    assert spy.calls == {}


def test_without_a_script_runner_the_script_step_has_no_opinion() -> None:
    d = one(module("m", default=True, script="false-with-reason"))
    assert (d.enabled, d.reason) == (True, "Default")


def test_script_error_keeps_the_previous_state_and_does_not_stop_the_pass() -> None:
    spy = ScriptSpy({"a": ScriptResult(None, error="boom"), "b": ScriptResult(True)})
    mods = (module("a", 1, default=True, script="x"), module("b", 2, default=True, script="x"))
    for previous, kept in (({"a": True}, True), ({}, False)):
        a, b = decide(
            discovery(*mods), specs={}, dynamic={}, values_for=values_for, run_script=spy,
            previous=previous,
        )
        state = "enabled" if kept else "disabled"
        assert a == Decision(
            "a", kept, "EnabledScript",
            f"enabled script failed, keeping the previous state ({state}): boom", error="boom",
        )
        assert (b.enabled, b.error) == (True, None)
        assert spy.calls["b"]["global"]["enabledModules"] == (["a"] if kept else [])


def test_scripts_see_the_modules_enabled_earlier_in_run_order() -> None:
    mods = (
        module("first", 1, default=True),
        module("off", 2),
        module("second", 3, default=True, script="x"),
        module("dropped", 4, default=True, script="x"),
        module("last", 5, default=True, script="x"),
    )
    spy = ScriptSpy({
        "second": ScriptResult(True), "dropped": ScriptResult(False), "last": ScriptResult(True),
    })
    decisions = decide(
        discovery(*mods), specs={}, dynamic={}, values_for=values_for, run_script=spy
    )
    assert [d.module for d in decisions] == ["first", "off", "second", "dropped", "last"]
    assert [d.enabled for d in decisions] == [True, False, True, False, True]
    assert spy.calls["second"]["global"] == {"clusterName": "dev", "enabledModules": ["first"]}
    assert spy.calls["dropped"]["global"]["enabledModules"] == ["first", "second"]
    assert spy.calls["last"]["global"]["enabledModules"] == ["first", "second"]


@pytest.mark.parametrize(
    ("text", "enabled", "error"),
    [
        ("true", True, None),
        ("  false\n\n", False, None),
        ("\ttrue\r\n", True, None),
        ("True", None, "s wrote 'True' to MODULE_ENABLED_RESULT, expected true or false"),
        ("", None, "s wrote '' to MODULE_ENABLED_RESULT, expected true or false"),
        ("true false", None, "s wrote 'true false' to MODULE_ENABLED_RESULT, expected true or false"),
        (None, None, "s did not write true or false to MODULE_ENABLED_RESULT"),
    ],
)
def test_parse_result(text: str | None, enabled: bool | None, error: str | None) -> None:
    assert parse_result(text, Path("s")) == ScriptResult(enabled, error=error)


def run_real(script: str, tmp_path: Path, **env: str) -> ScriptResult:
    runner = EnabledScriptRunner(tmp_path / "tmp", base_env={"PATH": "/usr/bin:/bin", **env})
    m = module("my-mod", script=script, path=tmp_path)
    values, config = values_for(m)
    values["global"]["enabledModules"] = ["a", "b"]
    return runner(m, values, config)


def test_real_script_gets_the_upstream_env_files_and_cwd(tmp_path: Path) -> None:
    result = run_real("report-inputs", tmp_path, EXTRA="from the operator env")
    assert result.enabled is True and result.error is None
    assert json.loads(result.reason or "") == {
        "enabledModules": ["a", "b"],
        "config": {"global": {}, "myMod": {"replicas": 1}},
        "cwd": str(tmp_path),
        "extra": "from the operator env",
    }
    assert list((tmp_path / "tmp").iterdir()) == [], "the script's files are removed"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("true-padded", ScriptResult(True)),
        ("false-with-reason", ScriptResult(False, "no database here")),
        ("invalid-result", ScriptResult(
            None, error=f"{SCRIPTS}/invalid-result wrote 'yes' to MODULE_ENABLED_RESULT, "
            "expected true or false")),
        ("no-result", ScriptResult(
            None, error=f"{SCRIPTS}/no-result did not write true or false to MODULE_ENABLED_RESULT")),
        ("exits-nonzero", ScriptResult(
            None, error=f"{SCRIPTS}/exits-nonzero exited with code 3: cannot reach the API")),
    ],
)
def test_real_script_results(script: str, expected: ScriptResult, tmp_path: Path) -> None:
    assert run_real(script, tmp_path) == expected


def test_a_script_that_times_out_is_an_error(tmp_path: Path) -> None:
    def hung(argv: Any, **kwargs: Any) -> Completed:
        assert kwargs["timeout"] == 2.5
        return Completed(tuple(argv), -9, "", "", 2.5, timed_out=True)

    runner = EnabledScriptRunner(tmp_path, run=hung, timeout=2.5, base_env={})
    m = module("m", script="true-padded")
    assert runner(m, {}, {}) == ScriptResult(None, error=f"{SCRIPTS}/true-padded timed out after 2.5s")


def test_the_example_dependent_module_follows_echo_server(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "modules"
    dependent = ModuleDef(
        name="dependent", key="dependent", order=40, path=examples / "040-dependent",
        modules_dir=examples, chart=ChartKind.SYNTHETIC,
        enabled_script=examples / "040-dependent" / "enabled", modules_values_enabled=True,
    )
    echo = module("echo-server", 10, default=True)
    runner = EnabledScriptRunner(tmp_path)
    for spec, expected in ((None, (True, "ModulesValues", None)),
                           (False, (False, "EnabledScript", "needs the echo-server module"))):
        _, d = decide(
            discovery(echo, dependent), specs={"echo-server": spec}, dynamic={},
            values_for=values_for, run_script=runner,
        )
        assert (d.enabled, d.reason, d.script_reason) == expected
