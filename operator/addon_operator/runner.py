"""Running external programs: hooks, `enabled` scripts, `helm`, the sandbox API server.

This is the only module that imports `subprocess`. Everything that runs a program to completion
goes through `run()` (or an object with the same signature, the `Runner` protocol), so tests can
substitute a spy and production code gets one consistent behaviour: each child runs in its own
process group, a timeout kills the whole group (hooks spawn children), and the result is plain
data. Long-running children (the `sandbox` command's API server) are started with `start()`,
which returns a `Started` handle: also in their own process group, output to a file, stopped
with `terminate()` (SIGTERM to the group, SIGKILL when it does not exit in time).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

STDERR_TAIL_BYTES = 4096


@dataclass(frozen=True)
class Completed:
    """What a finished (or killed) process left behind."""

    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

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
    try:
        proc = subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        return Completed(tuple(argv), 127, "", f"{argv[0]}: {exc.strerror}", 0.0)
    except PermissionError as exc:
        return Completed(tuple(argv), 126, "", f"{argv[0]}: {exc.strerror}", 0.0)
    timed_out = False
    try:
        out, err = proc.communicate(stdin.encode() if stdin is not None else None, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc.pid)
        out, err = proc.communicate()
    return Completed(
        argv=tuple(argv),
        exit_code=proc.returncode,
        stdout=out.decode(errors="replace"),
        stderr=err.decode(errors="replace"),
        seconds=time.monotonic() - started,
        timed_out=timed_out,
    )


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
