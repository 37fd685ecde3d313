"""Real `hook --config` runs: bash and python3 hooks, cwd/env, venv, failures, bad output."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from addon_operator.hooks import HookConfigError, load_hook_config
from addon_operator.hooks.interpreter import _warn_no_venv
from addon_operator.runner import Completed

TESTDATA = Path(__file__).parent / "testdata"
SAMPLE_HOOKS = TESTDATA / "modules" / "001-sample" / "hooks"
VENV_HOOKS = TESTDATA / "modules" / "002-venv" / "hooks"


def _observe_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "OBSERVE_FILE": str(tmp_path / "observed"), "OBSERVE_MARKER": "m-1"}


def _observed(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "observed").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_bash_hook_config_run_sees_hooks_dir_and_operator_env_only(tmp_path: Path) -> None:
    config = load_hook_config(
        SAMPLE_HOOKS / "observe_env.sh", kind="module", module_name="sample",
        env=_observe_env(tmp_path),
    )
    assert config.version == "v1"
    assert config.lifecycle == {"beforeHelm": 10.0}
    assert [s.name for s in config.schedules] == ["every-minute"]
    assert config.kubernetes[0].jq_filter == ".metadata.labels"
    seen = _observed(tmp_path)
    assert seen["args"] == "--config"
    assert Path(seen["cwd"]).resolve() == SAMPLE_HOOKS.resolve()
    assert seen["binding_context"] == "unset"
    assert seen["values"] == "unset"
    assert seen["marker"] == "m-1"


def test_python_hook_in_subdir_printing_json_runs_from_hooks_dir(caplog: pytest.LogCaptureFixture) -> None:
    _warn_no_venv.cache_clear()
    with caplog.at_level(logging.WARNING):
        config = load_hook_config(
            SAMPLE_HOOKS / "sub" / "print_json.py", kind="module", module_name="sample"
        )
        load_hook_config(SAMPLE_HOOKS / "sub" / "print_json.py", kind="module", module_name="sample")
    assert config.lifecycle == {"afterHelm": 5.0}
    assert config.kubernetes[0].name == "cms"
    assert config.kubernetes[0].execute_hook_on_event == ("Added",)
    assert "no executable" in caplog.text and "running the hook directly" in caplog.text
    assert caplog.text.count("no executable") == 1, "warned once per hook, not on every run"


def test_module_python_hook_uses_hooks_venv_with_pythonhome(tmp_path: Path) -> None:
    config = load_hook_config(
        VENV_HOOKS / "nested" / "venv_hook.py", kind="module", module_name="venv",
        env=_observe_env(tmp_path),
    )
    assert config.on_startup == 3.0
    first, cwd_line = (tmp_path / "observed").read_text().splitlines()
    assert first == (
        f"venv-python PYTHONHOME={VENV_HOOKS / 'venv'} script={VENV_HOOKS / 'nested' / 'venv_hook.py'}"
    )
    assert Path(cwd_line.removeprefix("cwd=")).resolve() == VENV_HOOKS.resolve()


def test_global_python_hook_ignores_a_venv(tmp_path: Path) -> None:
    calls: list[tuple[list[str], object]] = []

    def spy(argv, *, env=None, cwd=None, timeout=None, stdin=None) -> Completed:
        calls.append((list(argv), env))
        return Completed(tuple(argv), 0, "configVersion: v1\nafterAll: 1\n", "", 0.0)

    hook = VENV_HOOKS / "nested" / "venv_hook.py"
    config = load_hook_config(hook, kind="global", module_name=None, runner=spy)
    assert config.lifecycle == {"afterAll": 1.0}
    [(argv, env)] = calls
    assert argv == [str(hook), "--config"]
    assert "PYTHONHOME" not in env


def test_global_hook_with_explicit_hooks_dir_and_timeout_passed_to_runner() -> None:
    seen: dict[str, object] = {}

    def spy(argv, *, env=None, cwd=None, timeout=None, stdin=None) -> Completed:
        seen.update(cwd=cwd, timeout=timeout)
        return Completed(tuple(argv), 0, "configVersion: v1\nonStartup: 5\nbeforeAll: 10\n", "", 0.0)

    hooks_dir = TESTDATA / "global-hooks"
    config = load_hook_config(
        hooks_dir / "hooks" / "startup.sh", kind="global", module_name=None, runner=spy,
        timeout=2.5, hooks_dir=hooks_dir,
    )
    assert (config.on_startup, config.lifecycle) == (5.0, {"beforeAll": 10.0})
    assert seen == {"cwd": str(hooks_dir), "timeout": 2.5}


def test_real_global_hook() -> None:
    config = load_hook_config(
        TESTDATA / "global-hooks" / "hooks" / "startup.sh", kind="global", module_name=None
    )
    assert config.binding_names() == ["onStartup", "beforeAll"]


def test_global_lifecycle_key_rejected_for_the_same_hook_loaded_as_module() -> None:
    with pytest.raises(HookConfigError) as err:
        load_hook_config(
            TESTDATA / "global-hooks" / "hooks" / "startup.sh", kind="module", module_name="x"
        )
    assert "beforeAll: allowed only in global hooks" in str(err.value)


def test_failing_hook_names_file_exit_code_and_stderr_tail() -> None:
    hook = SAMPLE_HOOKS / "fails.sh"
    with pytest.raises(HookConfigError) as err:
        load_hook_config(hook, kind="module", module_name="sample")
    text = str(err.value)
    assert text.startswith(f"hook {hook}: --config exited with code 3; stderr:")
    assert "cannot read settings: permission denied" in text


def test_timed_out_run_is_reported() -> None:
    def spy(argv, *, env=None, cwd=None, timeout=None, stdin=None) -> Completed:
        return Completed(tuple(argv), -9, "", "still working\n", timeout or 0, timed_out=True)

    with pytest.raises(HookConfigError, match=r"did not finish within 0.5s and was killed; stderr:\nstill working"):
        load_hook_config(SAMPLE_HOOKS / "fails.sh", kind="module", module_name="s", runner=spy, timeout=0.5)


def test_missing_interpreter_is_a_clear_failure(tmp_path: Path) -> None:
    hook = tmp_path / "hooks" / "x.sh"
    hook.parent.mkdir()
    hook.write_text("#!/no/such/interpreter\n")
    hook.chmod(0o755)
    with pytest.raises(HookConfigError, match=r"exited with code 127"):
        load_hook_config(hook, kind="module", module_name="m")


def test_bad_yaml_output_points_at_the_line() -> None:
    hook = SAMPLE_HOOKS / "bad_yaml.sh"
    with pytest.raises(HookConfigError) as err:
        load_hook_config(hook, kind="module", module_name="sample")
    assert str(err.value).startswith(f"hook {hook}: --config output is not valid YAML or JSON at line 4")


def test_v0_hook_output() -> None:
    config = load_hook_config(SAMPLE_HOOKS / "v0_hook.sh", kind="module", module_name="sample")
    assert config.version == "v0"
    assert config.lifecycle == {"beforeDeleteHelm": 2.0}
    assert config.kubernetes[0].execute_hook_on_event == ("Added", "Deleted")
    assert config.kubernetes[0].name_selector == ("default",)


def test_module_hook_needs_module_name() -> None:
    with pytest.raises(ValueError, match="module_name"):
        load_hook_config(SAMPLE_HOOKS / "v0_hook.sh", kind="module", module_name=None)


def test_testdata_hooks_are_executable() -> None:
    assert shutil.which("bash") and shutil.which("python3")
    for path in TESTDATA.rglob("*"):
        if path.is_file():
            assert os.access(path, os.X_OK), path
