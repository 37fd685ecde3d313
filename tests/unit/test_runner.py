"""`runner.run` (to completion) and `runner.start` (long-running children): exit codes, output,
stdin, the child's own CPU time and peak memory, timeouts and termination reach the whole
process group, SIGKILL when SIGTERM is ignored."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from addon_operator import runner


def _gone(pid: int) -> bool:
    """No such process, or only a zombie left for whoever adopted it to reap."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _dies(pid: int, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _wait_for(path: Path, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if text.strip():
            return text
        time.sleep(0.01)
    raise AssertionError(f"{path} stayed empty for {timeout:g}s")


def test_run_reports_exit_code_output_and_missing_programs() -> None:
    done = runner.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (done.exit_code, done.stdout, done.stderr, done.ok) == (3, "out\n", "err\n", False)
    missing = runner.run(["/nonexistent/program"])
    assert missing.exit_code == 127 and "/nonexistent/program" in missing.stderr


def test_run_passes_stdin_and_ends_when_the_child_exits() -> None:
    assert runner.run(["cat"], stdin="in\n").stdout == "in\n"
    started = time.monotonic()
    done = runner.run(["sh", "-c", "sleep 30 & echo $!"])
    assert time.monotonic() - started < 5, "a child left running does not hold the run"
    assert _dies(int(done.stdout)), "and it is stopped with the run"


MIB = 1024 * 1024
BURN = "x = b'x' * (128 << 20)\nfor i in range(3_000_000): pass"


def test_run_measures_the_childs_own_cpu_time_and_peak_memory() -> None:
    done = runner.run([sys.executable, "-c", BURN])
    assert done.ok and done.usage is not None
    assert done.usage.user_cpu > 0.01
    assert done.usage.max_rss_bytes > 128 * MIB, "ru_maxrss KiB converted to bytes"


def test_usage_is_per_child_while_others_run_in_parallel() -> None:
    """What a parallel child burns is not added to a child that merely sleeps (no
    RUSAGE_CHILDREN deltas)."""
    results: dict[str, runner.Completed] = {}
    sleeper = threading.Thread(target=lambda: results.update(
        sleep=runner.run(["sh", "-c", "sleep 1"])))
    sleeper.start()
    time.sleep(0.1)
    results["burn"] = runner.run([sys.executable, "-c", BURN])
    sleeper.join(10)
    burn, sleep = results["burn"].usage, results["sleep"].usage
    assert burn is not None and sleep is not None
    assert sleep.user_cpu < 0.05 < burn.user_cpu


def test_run_timeout_kills_the_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild"
    done = runner.run(["sh", "-c", f"sleep 30 & echo $! > {pid_file}; wait"], timeout=0.3)
    assert done.timed_out and not done.ok
    assert _dies(int(pid_file.read_text())), "the hook's own children are killed too"


def test_start_child_exit_code_and_merged_output(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    log.write_text("old content\n")
    child = runner.start(["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 4"],
                         stdout_path=log)
    deadline = time.monotonic() + 5
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert child.poll() == 4
    assert log.read_text().split() == ["to-stdout", "to-stderr"], "truncated, stderr merged"
    assert child.terminate(1.0) == 4, "terminating an exited child just reports its code"


def test_start_runs_in_its_own_process_group(tmp_path: Path) -> None:
    child = runner.start(["sleep", "30"], stdout_path=tmp_path / "log")
    try:
        assert os.getpgid(child.pid) == child.pid != os.getpgid(0)
        assert child.poll() is None
    finally:
        assert child.terminate(5.0) == -signal.SIGTERM
    assert _gone(child.pid)


def test_terminate_escalates_to_sigkill_for_the_whole_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild"
    script = f"trap '' TERM; sleep 30 & echo $! > {pid_file}; while :; do sleep 0.05; done"
    child = runner.start(["sh", "-c", script], stdout_path=tmp_path / "log")
    grandchild = int(_wait_for(pid_file))
    started = time.monotonic()
    assert child.terminate(0.3) == -signal.SIGKILL
    assert time.monotonic() - started < 3
    assert child.poll() == -signal.SIGKILL
    assert _dies(grandchild), "children of the child are killed with it"


def test_start_raises_for_a_program_that_cannot_start(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        runner.start(["/nonexistent/program"], stdout_path=tmp_path / "log")
