"""Nothing a child starts outlives its run: what a hook leaves running in the background is
stopped when the hook exits, when it times out, and when the operator's interpreter exits;
SIGTERM first, SIGKILL after the grace for what ignores it; the output the leftovers wrote
is still read, and a timeout is still reported as one."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from addon_operator import runner
from addon_operator.hooks import HookConfig
from addon_operator.hooks.contexts import lifecycle_contexts
from addon_operator.hooks.execute import HookResult, HookSpec, run_hook
from processes import gone_within

ROOT = Path(__file__).resolve().parents[2]
VALUES = {"global": {}, "demo": {}}


def _pid(path: Path, seconds: float = 10.0) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if text.endswith("\n"):
            return int(text)
        time.sleep(0.02)
    raise AssertionError(f"{path} was not written within {seconds:g}s")


def _kill(pid: int) -> None:
    """Clean-up for a failed assertion: the test never leaves its own leftovers behind."""
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass


def test_a_background_child_is_stopped_when_the_child_exits(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    started = time.monotonic()
    done = runner.run(["bash", "-c", f"sleep 300 & echo $! > {pid_file}; echo done"])
    child = _pid(pid_file)
    try:
        assert done.ok and done.stdout == "done\n"
        assert time.monotonic() - started < 5
        assert gone_within(child, 5), "the background sleep outlived the run"
    finally:
        _kill(child)


def test_a_leftover_ignoring_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = (f"(trap '' TERM; echo $BASHPID > {pid_file}; exec sleep 300) & "
              f"until [ -s {pid_file} ]; do sleep 0.01; done")
    started = time.monotonic()
    done = runner.run(["bash", "-c", script], kill_grace=0.3)
    took = time.monotonic() - started
    child = _pid(pid_file)
    try:
        assert done.ok
        assert 0.3 <= took < 5, "SIGKILL comes after the grace, not before"
        assert done.seconds < took, "the run's own time ends when the child exits"
        assert gone_within(child, 5), "SIGKILL reached the leftover"
    finally:
        _kill(child)


def test_what_leftovers_write_while_stopping_is_read(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    script = (f"(trap 'echo leftover stopped >&2; exit 0' TERM; sleep 300 & touch {ready}; wait) &"
              f" until [ -e {ready} ]; do sleep 0.01; done; echo started")
    done = runner.run(["bash", "-c", script], kill_grace=5)
    assert done.ok and done.stdout == "started\n"
    assert done.stderr == "leftover stopped\n"


def test_a_timeout_stops_the_child_and_its_children_and_is_reported(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = f"trap '' TERM; sleep 300 & echo $! > {pid_file}; while :; do sleep 0.05; done"
    started = time.monotonic()
    done = runner.run(["bash", "-c", script], timeout=1.0, kill_grace=0.3)
    child = _pid(pid_file)
    try:
        assert done.timed_out and not done.ok
        assert done.exit_code == -9, "the child ignored SIGTERM, so SIGKILL ended it"
        assert time.monotonic() - started < 5
        assert gone_within(child, 5)
    finally:
        _kill(child)


def test_a_timed_out_child_that_stops_on_sigterm_exits_by_it(tmp_path: Path) -> None:
    done = runner.run(["sleep", "300"], timeout=0.2, kill_grace=30)
    assert done.timed_out and done.exit_code == -15 and done.seconds < 10


def test_children_still_running_when_the_interpreter_exits_are_stopped(tmp_path: Path) -> None:
    """An operator that exits while a hook runs (its worker threads are daemons) leaves nothing
    behind: the hook and its background child are stopped by the `atexit` hand-off."""
    hook_pid, child_pid = tmp_path / "hook.pid", tmp_path / "child.pid"
    program = textwrap.dedent(f"""
        import threading, time
        from pathlib import Path
        from addon_operator import runner
        script = "echo $$ > {hook_pid}; sleep 300 & echo $! > {child_pid}; wait"
        threading.Thread(target=runner.run, args=(["bash", "-c", script],), daemon=True).start()
        while not Path({str(child_pid)!r}).exists() or not Path({str(child_pid)!r}).read_text():
            time.sleep(0.02)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "operator")}
    subprocess.run([sys.executable, "-c", program], env=env, timeout=60, check=True)
    pids = [_pid(hook_pid), _pid(child_pid)]
    try:
        assert all(gone_within(pid, 5) for pid in pids), "the hook outlived the operator"
    finally:
        for pid in pids:
            _kill(pid)


def _hook(tmp_path: Path, body: str) -> HookSpec:
    path = tmp_path / "001-demo" / "hooks" / "hook.sh"
    path.parent.mkdir(parents=True)
    path.write_text(f"#!/usr/bin/env bash\n{body}\n")
    path.chmod(0o755)
    return HookSpec(name="hooks/hook.sh", path=path,
                    config=HookConfig(version="v1", lifecycle={"beforeHelm": 1.0}))


def _run_hook(tmp_path: Path, hook: HookSpec, timeout: float) -> HookResult:
    return run_hook(hook, lifecycle_contexts("beforeHelm", "v1"), values=VALUES,
                    config_values=VALUES, kind="module", module_key="demo",
                    tmp_dir=tmp_path / "tmp", timeout=timeout,
                    env={"PATH": os.environ["PATH"], "PID_FILE": str(tmp_path / "child.pid")})


def test_a_hook_that_exits_leaves_no_background_child(tmp_path: Path) -> None:
    hook = _hook(tmp_path, 'sleep 300 &\necho "$!" > "$PID_FILE"\necho "started it" >&2')
    result = _run_hook(tmp_path, hook, timeout=10)
    child = _pid(tmp_path / "child.pid")
    try:
        assert result.ok and result.stderr_tail == "started it"
        assert gone_within(child, 5), "the hook's background sleep outlived the hook"
    finally:
        _kill(child)


def test_a_hook_that_times_out_leaves_no_background_child(tmp_path: Path) -> None:
    hook = _hook(tmp_path, 'sleep 300 &\necho "$!" > "$PID_FILE"\necho "waiting" >&2\nsleep 300')
    result = _run_hook(tmp_path, hook, timeout=0.5)
    child = _pid(tmp_path / "child.pid")
    try:
        assert result.timed_out and not result.ok
        assert result.message == "hook timed out after 0.5 s and was killed; stderr:\nwaiting"
        assert gone_within(child, 5)
    finally:
        _kill(child)
