"""`addon-operator modules`: the table of discovered modules and their enablement decisions."""

from __future__ import annotations

from pathlib import Path

from test_cli_support import BROKEN, run_cli, write_module

NOTE = "modules: global hooks are not run, so their <moduleKey>Enabled patches are not applied\n"


def test_the_example_modules_table() -> None:
    done = run_cli("modules")
    assert (done.returncode, done.stderr) == (0, NOTE)
    assert done.stdout == (
        "NAME             WEIGHT   CHART       HOOKS   ENABLED   REASON\n"
        "echo-server      10       chart       0       true      Default\n"
        "patched-config   20       chart       1       true      ModulesValues\n"
        "python-hook      30       chart       1       true      ModulesValues\n"
        "dependent        40       synthetic   0       true      ModulesValues\n"
        "hooks-only       50       none        1       true      ModulesValues\n"
    )


def test_spec_enabled_and_the_dependent_script_wide(tmp_path: Path) -> None:
    off = tmp_path / "off.yaml"
    off.write_text(
        "apiVersion: addon-operator.io/v1alpha1\nkind: Module\nmetadata: {name: echo-server}\n"
        "spec: {enabled: false}\n---\n"
        "apiVersion: addon-operator.io/v1alpha1\nkind: Module\nmetadata: {name: hooks-only}\n"
        "spec: {enabled: true}\n"
    )
    done = run_cli("modules", "-f", off, "-o", "wide")
    assert done.returncode == 0, done.stderr
    rows = [line.split(None, 6) for line in done.stdout.splitlines()]
    assert rows == [
        ["NAME", "WEIGHT", "CHART", "HOOKS", "ENABLED", "REASON", "MESSAGE"],
        ["echo-server", "10", "chart", "0", "false", "ModuleSpec", "disabled by Module spec.enabled"],
        ["patched-config", "20", "chart", "1", "true", "ModulesValues",
         "enabled by patchedConfigEnabled in the modules directory values.yaml"],
        ["python-hook", "30", "chart", "1", "true", "ModulesValues",
         "enabled by pythonHookEnabled in the modules directory values.yaml"],
        ["dependent", "40", "synthetic", "0", "false", "EnabledScript",
         "disabled by the enabled script: needs the echo-server module"],
        ["hooks-only", "50", "none", "1", "true", "ModuleSpec", "enabled by Module spec.enabled"],
    ]


def test_a_failing_enabled_script_is_isolated_and_fails_the_command(tmp_path: Path) -> None:
    mods = tmp_path / "mods"
    write_module(mods, "001-flaky", {
        "values.yaml": "flakyEnabled: true\n",
        "enabled": "#!/bin/sh\necho 'no API' >&2\nexit 4\n",
    })
    write_module(mods, "002-steady", {"values.yaml": "steadyEnabled: true\n"})
    write_module(mods, "misc", {})
    done = run_cli("modules", "--modules-dir", mods, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == (
        "NAME     WEIGHT   CHART   HOOKS   ENABLED   REASON\n"
        "flaky    1        none    0       error     EnabledScript\n"
        "misc     1        none    0       false     Default\n"
        "steady   2        none    0       true      Default\n"
    )
    assert done.stderr == (
        f"flaky: enabled script failed, keeping the previous state (disabled): "
        f"{mods}/001-flaky/enabled exited with code 4: no API\n"
    )


def test_manifest_problems_are_reported_and_fail_the_command() -> None:
    done = run_cli("modules", "-f", BROKEN / "2-kinds.yaml")
    assert done.returncode == 1
    assert done.stdout.startswith("NAME ")
    problems = [line for line in done.stderr.splitlines() if line != NOTE.strip()]
    assert len(problems) == 6
    assert problems[0] == (
        f"{BROKEN}/2-kinds.yaml: ConfigMap/addon-operator: kind: must be Module or GlobalConfig, "
        "got 'ConfigMap'"
    )
