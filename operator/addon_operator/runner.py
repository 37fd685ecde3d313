"""Running external programs: hooks, `enabled` scripts, `helm`, the sandbox API server.

This is the only module that imports `subprocess`. Everything that runs a program to completion
goes through `run()` (or an object with the same signature, the `Runner` protocol), so tests can
substitute a spy and production code gets one consistent behaviour: each child runs in its own
session and process group, and nothing of that group outlives the run. A timeout stops the whole
group (hooks spawn children): SIGTERM, then SIGKILL when the child has not exited `kill_grace`
seconds later (`KILL_GRACE`). When the child exits, what it left running in its group (`sleep
300 &`) gets the same treatment before `run()` returns; so do the groups of runs still going
when the operator's interpreter exits (`terminate_all`, registered with `atexit`). A process
that leaves the group (`setsid`, `setpgid`, a shell's job control) is not followed. The result
is plain data, including the child's own CPU time and peak memory (`Usage`, from `wait4` on its
pid: per child, so hooks running in parallel do not mix; the `*_hook_run_*_cpu_seconds` and
`*_hook_run_max_rss_bytes` metrics). The child's output goes to temporary files, so no pipe
stays open behind a background process: the run ends when the child exits (plus the time its
leftovers take to stop), and the output read then includes what they wrote.
Long-running children (the `sandbox` command's API server) are started with `start()`, which
returns a `Started` handle: also in their own process group, output to a file, stopped with
`terminate()` (SIGTERM to the group, SIGKILL when it does not exit in time).
"""

from __future__ import annotations

import atexit
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
KILL_GRACE = 3.0      # seconds from SIGTERM to SIGKILL for a child's process group
GROUP_POLL = 0.02     # seconds between checks whether a process group is gone

# The process groups (= pids of their leaders) of `run()` children not cleaned up yet.
_live_groups: set[int] = set()
_live_lock = threading.Lock()


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
    kill_grace: float = KILL_GRACE,
) -> Completed:
    """Run `argv` to completion; never raises for a non-zero exit or a timeout.

    After `timeout` seconds the child's group gets SIGTERM, and SIGKILL `kill_grace` seconds
    later if the child is still running; once the child has exited, whatever is left in its
    group is stopped the same way, and only then is the output read. `seconds` is the child's
    own run time, up to its exit. A program that cannot be started at all (missing, not
    executable) is reported as exit code 127 or 126 with the OS error in stderr, the way a
    shell would.
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
        with _live_lock:
            _live_groups.add(proc.pid)
        try:
            timed_out, usage, ended = _wait(proc, timeout, kill_grace)
        finally:
            with _live_lock:
                _live_groups.discard(proc.pid)
        return Completed(
            argv=tuple(argv),
            exit_code=proc.returncode,
            stdout=_read(out),
            stderr=_read(err),
            seconds=ended - started,
            timed_out=timed_out,
            usage=usage,
        )


def _wait(proc: subprocess.Popen[bytes], timeout: float | None,
          grace: float) -> tuple[bool, Usage, float]:
    """Wait for the child, stopping its group after `timeout` seconds, then stop what is left
    of the group; (timed out, usage, the moment the child exited).

    The child is first waited for without being reaped (`WNOWAIT`), so its pid, which is also
    its process group id, cannot be reused while the timer may still signal the group, nor
    when the leftovers get their SIGTERM; then `wait4` reaps it with its resource usage and
    sets `proc.returncode`. From then on the group id stays allocated as long as a member
    lives (Linux frees a pid only when no process uses it as pid, group or session id)."""
    expired = threading.Event()
    exited = threading.Event()

    def expire() -> None:
        expired.set()
        _signal_group(proc.pid, signal.SIGTERM)
        if not exited.wait(grace):
            _kill_group(proc.pid)

    timer = threading.Timer(timeout, expire) if timeout is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
    finally:
        ended = time.monotonic()
        exited.set()
        if timer is not None:
            timer.cancel()
            timer.join()
    _signal_group(proc.pid, signal.SIGTERM)
    _, status, rusage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    usage = Usage(user_cpu=rusage.ru_utime, sys_cpu=rusage.ru_stime,
                  max_rss_bytes=rusage.ru_maxrss * KIB)
    _await_groups([proc.pid], grace)
    return expired.is_set(), usage, ended


def _await_groups(groups: Sequence[int], grace: float) -> None:
    """Wait up to `grace` seconds for the (signalled) `groups` to be gone, then SIGKILL the
    ones that are not."""
    deadline = time.monotonic() + grace
    remaining = [group for group in groups if _group_alive(group)]
    while remaining and time.monotonic() < deadline:
        time.sleep(GROUP_POLL)
        remaining = [group for group in remaining if _group_alive(group)]
    for group in remaining:
        _kill_group(group)


def _group_alive(group: int) -> bool:
    """Whether process group `group` has a member that is not a zombie. `killpg(0)` answers
    for most runs (no member left: ESRCH); a zombie member, not yet reaped by whoever adopted
    it, also answers it, so then /proc decides (where there is one)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False   # only members that may not be signalled are left: nothing to do
    return _live_member_in_proc(group)


def _live_member_in_proc(group: int) -> bool:
    """Whether /proc lists a process of `group` that is not a zombie (True without /proc)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as file:
                stat = file.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == group and fields[0] not in (b"Z", b"X"):
            return True
    return False


def terminate_all(grace: float = KILL_GRACE) -> None:
    """Stop the process groups of every `run()` still going (SIGTERM, SIGKILL after `grace`
    seconds): registered with `atexit`, so an operator that exits leaves no hook behind."""
    with _live_lock:
        groups = sorted(_live_groups)
    for group in groups:
        _signal_group(group, signal.SIGTERM)
    _await_groups(groups, grace)


atexit.register(terminate_all)


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
    except (ProcessLookupError, PermissionError):
        pass
