"""Real hook runs (bash with jq, python3): env, files, patches, failures, timeout, venv, cleanup."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

import pytest

from addon_operator.hooks import HookConfig
from addon_operator.hooks.contexts import lifecycle_contexts
from addon_operator.hooks.execute import (
    CONFIG_PATCH_REFUSED,
    HookResult,
    HookSpec,
    run_hook,
)
from addon_operator.runner import Completed

RUN = Path(__file__).parent / "testdata" / "run"
DEMO = RUN / "001-demo"
CONFIG = HookConfig(version="v1", lifecycle={"beforeHelm": 1.0})
VALUES = {"global": {"clusterName": "c1"}, "demo": {"replicas": 2}}
CONFIG_VALUES = {"global": {}, "demo": {"replicas": 2}}
PATH_VARS = (
    "BINDING_CONTEXT_PATH", "VALUES_PATH", "CONFIG_VALUES_PATH", "VALUES_JSON_PATCH_PATH",
    "CONFIG_VALUES_JSON_PATCH_PATH", "METRICS_PATH", "KUBERNETES_PATCH_PATH",
)


def _module_hook(name: str, root: Path = DEMO) -> HookSpec:
    return HookSpec(name=name, path=root / name, config=CONFIG)


def _env(observe: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"], "OBSERVE_DIR": str(observe), "OPERATOR_MARKER": "m-1", **extra
    }


def _run(
    tmp_path: Path, hook: HookSpec, *, env: dict[str, str] | None = None, **kwargs: Any
) -> HookResult:
    options: dict[str, Any] = {
        "values": VALUES, "config_values": CONFIG_VALUES, "kind": "module", "module_key": "demo",
        "tmp_dir": tmp_path / "tmp", "timeout": 10.0,
    }
    options.update(kwargs)
    env = env if env is not None else _env(tmp_path)
    return run_hook(hook, lifecycle_contexts("beforeHelm", "v1"), env=env, **options)


def _observed(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "observed").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_module_hook_sees_upstream_env_and_files(tmp_path: Path) -> None:
    result = _run(tmp_path, _module_hook("hooks/observe.sh"))
    assert result.ok and not result.allowed_failure
    assert (result.exit_code, result.timed_out, result.message) == (0, False, "")
    seen = _observed(tmp_path)
    assert seen["args"] == "0"
    assert seen["cwd"] == str(DEMO / "hooks")
    assert seen["OPERATOR_MARKER"] == "m-1"
    tmp = tmp_path / "tmp"
    for var in PATH_VARS:
        assert Path(seen[var]).parent == tmp, var
    for var in ("VALIDATING_RESPONSE_PATH", "ADMISSION_RESPONSE_PATH", "CONVERSION_RESPONSE_PATH",
                "PYTHONHOME"):
        assert seen[var] == "unset", var
    names = {var: Path(seen[var]).name for var in PATH_VARS}
    patterns = {
        "BINDING_CONTEXT_PATH": "demo.module-hook-hooks-observe.sh-binding-context-ID.json",
        "VALUES_PATH": "demo.module-values-ID.json",
        "CONFIG_VALUES_PATH": "demo.module-config-values-ID.json",
        "VALUES_JSON_PATCH_PATH": "hooks-observe.sh.module-hook-values-ID.json-patch",
        "CONFIG_VALUES_JSON_PATCH_PATH": "hooks-observe.sh.module-hook-config-values-ID.json-patch",
        "METRICS_PATH": "hooks-observe.sh.module-hook-metrics-ID.json",
        "KUBERNETES_PATCH_PATH": "hooks-observe.sh-object-patch-ID",
    }
    for var, pattern in patterns.items():
        regex = re.escape(pattern).replace("ID", "[0-9a-f]{32}")
        assert re.fullmatch(regex, names[var]), (var, names[var])
    for var in PATH_VARS[3:]:
        assert seen[f"size_{var}"] == "0", var
    assert (seen["first_binding"], seen["contexts"]) == ("beforeHelm", "1")
    binding_context = (tmp_path / "binding-context.json").read_text()
    assert binding_context == '[{"binding":"beforeHelm","snapshots":{}}]\n'
    assert json.loads((tmp_path / "values.json").read_text()) == VALUES
    assert json.loads((tmp_path / "config-values.json").read_text()) == CONFIG_VALUES
    assert list(tmp.iterdir()) == []
    assert result.values_ops == [] and result.patched_values is None and result.enabled_ops == {}


def test_operator_env_defaults_to_the_process_env_and_cannot_shadow_the_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OBSERVE_DIR", str(tmp_path))
    monkeypatch.setenv("OPERATOR_MARKER", "from-process")
    monkeypatch.setenv("VALUES_PATH", "/bogus")
    hook = _module_hook("hooks/observe.sh")
    result = run_hook(
        hook, lifecycle_contexts("beforeHelm", "v1"), values=VALUES, config_values=CONFIG_VALUES,
        kind="module", module_key="demo", tmp_dir=tmp_path / "tmp", timeout=10,
    )
    assert result.ok
    seen = _observed(tmp_path)
    assert seen["OPERATOR_MARKER"] == "from-process"
    assert Path(seen["VALUES_PATH"]).parent == tmp_path / "tmp"


def test_bash_hook_appending_ops_with_jq_gives_checked_ops_and_patched_values(
    tmp_path: Path,
) -> None:
    result = _run(tmp_path, _module_hook("hooks/sub/scale.sh"))
    assert result.ok, result.message
    assert result.values_ops == [
        {"op": "add", "path": "/demo/internal", "value": {"doubled": 4}},
        {"op": "add", "path": "/demo/internal/source", "value": "scale.sh"},
    ]
    assert result.patched_values == {
        "global": {"clusterName": "c1"},
        "demo": {"replicas": 2, "internal": {"doubled": 4, "source": "scale.sh"}},
    }
    assert VALUES == {"global": {"clusterName": "c1"}, "demo": {"replicas": 2}}
    assert result.metrics == [{
        "name": "demo_hook_runs", "action": "add", "value": 1.0,
        "labels": {"binding": "beforeHelm"},
    }]


def test_metrics_are_parsed_and_kubernetes_patch_text_is_returned_raw(tmp_path: Path) -> None:
    kube = "operation: CreateOrUpdate\nobject:\n  kind: Secret\n"
    result = _run(
        tmp_path, _module_hook("hooks/observe.sh"),
        env=_env(tmp_path, HOOK_METRICS='{"name":"x","set":1}', HOOK_KUBE_PATCH=kube),
    )
    assert result.ok
    assert result.metrics == [{"action": "set", "name": "x", "value": 1.0, "labels": {}}]
    assert result.kube_patch_ops_text == kube


def test_invalid_metrics_fail_the_run_and_nothing_is_returned(tmp_path: Path) -> None:
    env = _env(
        tmp_path, HOOK_METRICS='{"name":"x","action":"observe","value":1}',
        HOOK_VALUES_PATCH='{"op": "add", "path": "/demo/x", "value": 1}',
    )
    result = _run(tmp_path, _module_hook("hooks/observe.sh"), env=env)
    assert not result.ok
    assert result.message.startswith("$METRICS_PATH: object #1 (line 1): ")
    assert "'buckets' must be a non-empty list" in result.message
    assert (result.values_ops, result.metrics) == ([], [])


def test_global_hook_ops_are_split_into_values_and_enabled_flags(tmp_path: Path) -> None:
    hook = HookSpec(name="flags.sh", path=RUN / "global-hooks" / "flags.sh", config=CONFIG)
    result = run_hook(
        hook, lifecycle_contexts("beforeAll", "v1"), values={"global": {"clusterName": "c1"}},
        config_values={"global": {}}, kind="global", module_key=None, tmp_dir=tmp_path, timeout=10,
    )
    assert result.ok, result.message
    assert result.values_ops == [{"op": "add", "path": "/global/discovered", "value": {"nodes": 3}}]
    assert result.patched_values == {"global": {"clusterName": "c1", "discovered": {"nodes": 3}}}
    assert result.enabled_ops == {"certManager": True, "legacy": False, "demo": None}


def test_global_hook_files_are_named_after_global(tmp_path: Path) -> None:
    hook = HookSpec(name="observe.sh", path=DEMO / "hooks" / "observe.sh", config=CONFIG)
    result = run_hook(
        hook, lifecycle_contexts("afterAll", "v1"), values={"global": {}},
        config_values={"global": {}}, kind="global", module_key=None, tmp_dir=tmp_path / "tmp",
        timeout=10, env=_env(tmp_path),
    )
    assert result.ok
    seen = _observed(tmp_path)
    assert Path(seen["VALUES_PATH"]).name.startswith("global.module-values-")
    context_file = Path(seen["BINDING_CONTEXT_PATH"]).name
    assert context_file.startswith("global.module-hook-observe.sh-binding-context-")
    assert json.loads((tmp_path / "values.json").read_text()) == {"global": {}}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ('{"op": "replace", "path": "/demo/replicas", "value": 3}',
         "unsupported patch operation 'replace'"),
        ('{"op": "add", "path": "/other/x", "value": 1}',
         "'/other/x' is outside the module's values"),
        ('{"op": "add", "path": "/global/x", "value": 1}',
         "'/global/x' is outside the module's values"),
        ('{"op": "add", "path": "/demo/x",', "line 1 column 33: invalid JSON"),
        ('[{"op": "add", "path": "/demo/x", "value": 1},'
         ' {"op": "remove", "path": "/demo/missing"}]',
         "path '/demo/missing' does not exist"),
        ('{"op": "remove", "path": "/demo"}', "leaves '/demo' without an object of values"),
    ],
)
def test_bad_values_patch_fails_the_run_and_changes_nothing(
    tmp_path: Path, patch: str, message: str
) -> None:
    env = _env(tmp_path, HOOK_VALUES_PATCH=patch)
    result = _run(tmp_path, _module_hook("hooks/observe.sh"), env=env)
    assert not result.ok and not result.allowed_failure
    assert result.exit_code == 0
    assert result.message.startswith("$VALUES_JSON_PATCH_PATH: ")
    assert message in result.message
    assert (result.values_ops, result.patched_values, result.metrics) == ([], None, [])


def test_global_hook_patch_outside_global_and_flags_is_refused(tmp_path: Path) -> None:
    hook = HookSpec(name="observe.sh", path=DEMO / "hooks" / "observe.sh", config=CONFIG)
    result = run_hook(
        hook, lifecycle_contexts("beforeAll", "v1"), values={"global": {}},
        config_values={"global": {}}, kind="global", module_key=None, tmp_dir=tmp_path, timeout=10,
        env=_env(tmp_path, HOOK_VALUES_PATCH='{"op": "add", "path": "/demo/x", "value": 1}'),
    )
    assert not result.ok
    assert "'/demo/x' is not accepted from a global hook" in result.message


def test_config_values_patch_is_refused_with_the_design_message(tmp_path: Path) -> None:
    result = _run(
        tmp_path, _module_hook("hooks/observe.sh"),
        env=_env(
            tmp_path,
            HOOK_CONFIG_PATCH='{"op": "add", "path": "/demo/replicas", "value": 5}',
            HOOK_VALUES_PATCH='{"op": "add", "path": "/demo/x", "value": 1}',
        ),
    )
    assert not result.ok
    assert result.message == CONFIG_PATCH_REFUSED
    assert "never written by the operator" in result.message
    assert "Secret written through $KUBERNETES_PATCH_PATH" in result.message
    assert result.values_ops == []


def test_empty_config_values_patch_is_accepted(tmp_path: Path) -> None:
    env = _env(tmp_path, HOOK_CONFIG_PATCH="[]\n")
    result = _run(tmp_path, _module_hook("hooks/observe.sh"), env=env)
    assert result.ok, result.message


def test_non_zero_exit_reports_the_stderr_tail_and_reads_no_file(tmp_path: Path) -> None:
    stderr = "\n".join(f"line {n}" for n in range(1, 13))
    result = _run(
        tmp_path, _module_hook("hooks/observe.sh"),
        env=_env(
            tmp_path, HOOK_EXIT="3", HOOK_STDERR=stderr, HOOK_METRICS='{"name":"x","set":1}',
            HOOK_VALUES_PATCH='{"op": "add", "path": "/demo/x", "value": 1}',
            HOOK_CONFIG_PATCH='{"op": "add", "path": "/demo/x", "value": 1}',
        ),
    )
    assert not result.ok and result.exit_code == 3
    expected_tail = "\n".join(f"line {n}" for n in range(3, 13))
    assert result.message == expected_tail == result.stderr_tail
    assert (result.values_ops, result.metrics, result.kube_patch_ops_text) == ([], [], "")
    assert list((tmp_path / "tmp").iterdir()) == []


def test_non_zero_exit_without_stderr_says_exit_status(tmp_path: Path) -> None:
    result = _run(tmp_path, _module_hook("hooks/observe.sh"), env=_env(tmp_path, HOOK_EXIT="4"))
    assert (result.ok, result.exit_code, result.message) == (False, 4, "exit status 4")


def test_allow_failure_marks_failed_runs_only(tmp_path: Path) -> None:
    hook = _module_hook("hooks/observe.sh")
    failed = _run(tmp_path, hook, env=_env(tmp_path, HOOK_EXIT="1"), allow_failure=True)
    assert (failed.ok, failed.allowed_failure) == (False, True)
    bad_env = _env(tmp_path, HOOK_VALUES_PATCH="nope")
    bad_patch = _run(tmp_path, hook, env=bad_env, allow_failure=True)
    assert (bad_patch.ok, bad_patch.allowed_failure) == (False, True)
    fine = _run(tmp_path, hook, allow_failure=True)
    assert (fine.ok, fine.allowed_failure) == (True, False)


def test_the_hook_process_cpu_time_and_peak_memory_are_returned(tmp_path: Path) -> None:
    hook = _module_hook("hooks/sub/burns_cpu.sh")
    for env, ok in ((_env(tmp_path), True), (_env(tmp_path, HOOK_EXIT="2"), False)):
        result = _run(tmp_path, hook, env=env)
        assert result.ok is ok and result.usage is not None
        assert result.usage.user_cpu > 0, "the hook's busy loop is counted"
        assert result.usage.sys_cpu >= 0
        assert result.usage.max_rss_bytes > 1024 * 1024, "bytes, not Linux's KiB"


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def test_timeout_kills_the_hook_and_its_children(tmp_path: Path) -> None:
    started = time.monotonic()
    result = _run(tmp_path, _module_hook("hooks/sub/spawns_child.sh"), timeout=0.5)
    assert time.monotonic() - started < 5
    assert result.timed_out and not result.ok
    assert result.message == "hook timed out after 0.5 s and was killed; stderr:\nworking"
    child = int((tmp_path / "child.pid").read_text())
    deadline = time.monotonic() + 2
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _gone(child)
    assert list((tmp_path / "tmp").iterdir()) == []


def _fake_venv_module(tmp_path: Path) -> Path:
    """A module dir with report.py and hooks/venv whose python3 is the running interpreter."""
    module = tmp_path / "002-py"
    (module / "hooks" / "venv" / "bin").mkdir(parents=True)
    (module / "hooks" / "venv" / "lib").mkdir()
    shutil.copy2(DEMO / "hooks" / "report.py", module / "hooks" / "report.py")
    (module / "hooks" / "venv" / "bin" / "python3").symlink_to(sys.executable)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    (module / "hooks" / "venv" / "lib" / stdlib.name).symlink_to(stdlib)
    return module


def test_module_python_hook_runs_with_its_venv_and_pythonhome(tmp_path: Path) -> None:
    module = _fake_venv_module(tmp_path)
    venv = module / "hooks" / "venv"
    result = _run(tmp_path, _module_hook("hooks/report.py", root=module))
    assert result.ok, result.message
    report = json.loads((tmp_path / "python.json").read_text())
    assert report["executable"] == str(venv / "bin" / "python3")
    assert report["pythonhome"] == report["prefix"] == str(venv)
    assert report["argv"] == [str(module / "hooks" / "report.py")]
    assert report["cwd"] == str(module / "hooks")
    assert report["bindings"] == ["beforeHelm"]
    assert result.values_ops == [{"op": "add", "path": "/demo/fromPython", "value": "c1"}]


def test_python_hook_without_venv_and_global_python_hook_run_directly(tmp_path: Path) -> None:
    result = _run(tmp_path, _module_hook("hooks/report.py"))
    assert result.ok, result.message
    report = json.loads((tmp_path / "python.json").read_text())
    assert report["pythonhome"] is None and report["argv"] == [str(DEMO / "hooks" / "report.py")]

    module = _fake_venv_module(tmp_path)
    hook = HookSpec(name="hooks/report.py", path=module / "hooks" / "report.py", config=CONFIG)
    run_hook(
        hook, lifecycle_contexts("afterAll", "v1"), values={"global": {"clusterName": "c2"}},
        config_values={"global": {}}, kind="global", module_key=None, tmp_dir=tmp_path / "tmp",
        timeout=10, env=_env(tmp_path),
    )
    report = json.loads((tmp_path / "python.json").read_text())
    assert report["pythonhome"] is None
    assert report["executable"] != str(module / "hooks" / "venv" / "bin" / "python3")


def test_keep_tmp_files_leaves_the_seven_files(tmp_path: Path) -> None:
    result = _run(tmp_path, _module_hook("hooks/sub/scale.sh"), keep_tmp_files=True)
    assert result.ok
    kept = sorted(p.name for p in (tmp_path / "tmp").iterdir())
    assert len(kept) == 7
    patch_file = next(p for p in (tmp_path / "tmp").iterdir() if ".module-hook-values-" in p.name)
    assert patch_file.read_text().count("\n") == 2


def test_unwritable_tmp_dir_is_a_failed_run_that_names_it(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    result = _run(tmp_path, _module_hook("hooks/observe.sh"), tmp_dir=blocker)
    assert (result.ok, result.exit_code) == (False, None)
    assert result.message.startswith(f"cannot write the hook's files in {blocker}: ")


def test_runner_gets_argv_cwd_and_timeout(tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []

    def spy(argv, *, env=None, cwd=None, timeout=None, stdin=None) -> Completed:
        calls.append({"argv": list(argv), "cwd": cwd, "timeout": timeout, "env": env})
        return Completed(tuple(argv), 0, "", "", 0.25)

    result = _run(tmp_path, _module_hook("hooks/sub/scale.sh"), runner=spy, timeout=7.5)
    assert result.ok and result.duration == 0.25
    assert result.usage is None, "a runner that measures nothing gives no usage"
    [call] = calls
    assert call["argv"] == [str(DEMO / "hooks" / "sub" / "scale.sh")]
    assert (call["cwd"], call["timeout"]) == (str(DEMO / "hooks" / "sub"), 7.5)
    assert set(PATH_VARS) <= set(call["env"])


def test_contract_errors_of_the_caller_raise() -> None:
    hook = _module_hook("hooks/observe.sh")
    with pytest.raises(ValueError, match="a module hook needs its module_key"):
        run_hook(hook, [], values=VALUES, config_values=CONFIG_VALUES, kind="module",
                 module_key=None, tmp_dir=Path("/nonexistent"), timeout=1)
    expected = r"values must have exactly the keys \['demo', 'global'\], got \['demo'\]"
    with pytest.raises(ValueError, match=expected):
        run_hook(hook, [], values={"demo": {}}, config_values=CONFIG_VALUES, kind="module",
                 module_key="demo", tmp_dir=Path("/nonexistent"), timeout=1)


def test_hook_spec_name_is_the_end_of_its_path() -> None:
    hook = _module_hook("hooks/sub/scale.sh")
    assert hook.root == DEMO and hook.safe_name == "hooks-sub-scale.sh"
    with pytest.raises(ValueError, match="its name 'hooks/other.sh' must be the end of its path"):
        HookSpec(name="hooks/other.sh", path=DEMO / "hooks" / "observe.sh", config=CONFIG)


def test_run_testdata_is_executable() -> None:
    assert shutil.which("jq"), "the bash hooks need jq"
    for path in RUN.rglob("*"):
        if path.is_file():
            assert os.access(path, os.X_OK), path
