"""Running external programs: hooks, `enabled` scripts, `helm`, the sandbox API server.

This is the only module that imports `subprocess`. Everything that runs a program to completion
goes through `run()` (or an object with the same signature, the `Runner` protocol), so tests can
substitute a spy and production code gets one consistent behaviour: each child runs in its own
process group, a timeout kills the whole group (hooks spawn children), and the result is plain
data, including the child's own CPU time and peak memory (`Usage`, from `wait4` on its pid:
per child, so hooks running in parallel do not mix; the `*_hook_run_*_cpu_seconds` and
`*_hook_run_max_rss_bytes` metrics). The child's output goes to temporary files, so the run
ends when the child exits, not when every process that inherited its output does.
Long-running children (the `sandbox` command's API server) are started with `start()`, which
returns a `Started` handle: also in their own process group, output to a file, stopped with
`terminate()` (SIGTERM to the group, SIGKILL when it does not exit in time).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

STDERR_TAIL_BYTES = 4096
KIB = 1024   # Linux reports ru_maxrss in KiB


@dataclass(frozen=True)
class Usage:
    """Resources one child used, with its own reaped children: CPU seconds in user and kernel
    mode, and its peak resident set size in bytes. The peak has the operator's resident memory as
    a floor: Linux counts the memory of the copy of the operator the child starts as (upstream's
    Go operator has the same floor)."""

    user_cpu: float
    sys_cpu: float
    max_rss_bytes: int


@dataclass(frozen=True)
class Completed:
    """What a finished (or killed) process left behind; `usage` None when not measured."""

    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    usage: Usage | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def stderr_tail(self, lines: int = 10) -> str:
        """The last `lines` non-empty lines of stderr (what a status message shows)."""
        kept = [line for line in self.stderr.splitlines() if line.strip()]
        return "\n".join(kept[-lines:])


class Runner(Protocol):
    def __call__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        timeout: float | None = None,
        stdin: str | None = None,
    ) -> Completed: ...


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float | None = None,
    stdin: str | None = None,
) -> Completed:
    """Run `argv` to completion; never raises for a non-zero exit or a timeout.

    A program that cannot be started at all (missing, not executable) is reported as exit code
    127 or 126 with the OS error in stderr, the way a shell would.
    """
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            _input_file(stdin) as given:
        try:
            proc = subprocess.Popen(
                list(argv),
                env=dict(env) if env is not None else None,
                cwd=cwd,
                stdin=given if given is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            return Completed(tuple(argv), 127, "", f"{argv[0]}: {exc.strerror}", 0.0)
        except PermissionError as exc:
            return Completed(tuple(argv), 126, "", f"{argv[0]}: {exc.strerror}", 0.0)
        timed_out, usage = _wait(proc, timeout)
        return Completed(
            argv=tuple(argv),
            exit_code=proc.returncode,
            stdout=_read(out),
            stderr=_read(err),
            seconds=time.monotonic() - started,
            timed_out=timed_out,
            usage=usage,
        )


def _wait(proc: subprocess.Popen[bytes], timeout: float | None) -> tuple[bool, Usage]:
    """Wait for the child, killing its group after `timeout` seconds; (timed out, usage).

    The child is first waited for without being reaped (`WNOWAIT`), so its pid, which is also
    its process group id, cannot be reused while the timer may still signal the group; then
    `wait4` reaps it with its resource usage and sets `proc.returncode`."""
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _kill_group(proc.pid)

    timer = threading.Timer(timeout, expire) if timeout is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
    finally:
        if timer is not None:
            timer.cancel()
            timer.join()
    _, status, rusage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    usage = Usage(user_cpu=rusage.ru_utime, sys_cpu=rusage.ru_stime,
                  max_rss_bytes=rusage.ru_maxrss * KIB)
    return expired.is_set(), usage


@contextmanager
def _input_file(text: str | None) -> Iterator[IO[bytes] | None]:
    """A temporary file holding `text` for the child's stdin (None: no input, no file)."""
    if text is None:
        yield None
        return
    with tempfile.TemporaryFile() as file:
        file.write(text.encode())
        file.seek(0)
        yield file


def _read(output: IO[bytes]) -> str:
    output.seek(0)
    return output.read().decode(errors="replace")


class Started:
    """A long-running child started by `start()`; its own process group leader."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc

    @property
    def pid(self) -> int:
        return self._proc.pid

    def poll(self) -> int | None:
        """The exit code once the child has exited (negative: killed by that signal), else None."""
        return self._proc.poll()

    def terminate(self, timeout: float) -> int:
        """SIGTERM to the child's process group, SIGKILL to it when the child is still running
        after `timeout` seconds; reaps the child and returns its exit code (idempotent)."""
        if self._proc.poll() is not None:
            return self._proc.returncode
        _signal_group(self._proc.pid, signal.SIGTERM)
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_group(self._proc.pid)
            return self._proc.wait()


def start(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stdout_path: Path,
) -> Started:
    """Start `argv` in its own process group with stdout and stderr written to `stdout_path`
    (truncated) and stdin from /dev/null, without waiting for it. A program that cannot be
    started raises the OSError (FileNotFoundError, PermissionError) naming it."""
    with open(stdout_path, "wb") as out:
        proc = subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Started(proc)


def _kill_group(pid: int) -> None:
    _signal_group(pid, signal.SIGKILL)


def _signal_group(pid: int, signum: signal.Signals) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass
