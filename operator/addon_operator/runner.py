"""Running external programs: hooks, `enabled` scripts, `helm`.

This is the only module that imports `subprocess`. Everything that starts a process goes through
`run()` (or an object with the same signature, the `Runner` protocol), so tests can substitute a
spy and production code gets one consistent behaviour: each child runs in its own process group,
a timeout kills the whole group (hooks spawn children), and the result is plain data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
