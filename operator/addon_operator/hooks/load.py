"""Running a hook with `--config` and turning its stdout into a `HookConfig`.

Called by the engine when it registers hooks: global hooks at start-up, module hooks when the
module first runs. As upstream: the only argument is `--config`, the working directory is the
hooks directory (not the hook's own directory, unlike a normal run), the environment is the
operator's own (no `*_PATH` variables), and a module's `*.py` hooks run with
`hooks/venv/bin/python3` and `PYTHONHOME=<venv>` when that venv exists. Unlike upstream the run
has a timeout, so a hung hook cannot block start-up.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from .. import runner as runner_module
from ..runner import Completed, Runner
from .config import parse_hook_config
from .config_model import HookConfig
from .config_schema import HookKind
from .errors import HookConfigError

log = logging.getLogger(__name__)

HOOKS_DIR_NAME = "hooks"
VENV_PYTHON = Path("venv") / "bin" / "python3"  # relative to the module's hooks dir


def load_hook_config(
    path: Path,
    *,
    kind: HookKind,
    module_name: str | None,
    runner: Runner = runner_module.run,
    env: Mapping[str, str] | None = None,
    timeout: float = 10,
    hooks_dir: Path | None = None,
) -> HookConfig:
    """Run `path --config` and parse what it prints.

    `env` defaults to the operator's environment. `hooks_dir` is the directory the hook was
    found in (cwd of the run, home of a module's venv); by default the nearest ancestor named
    `hooks`, else the hook's own directory. Raises `HookConfigError` naming the hook file.
    """
    if kind == "module" and not module_name:
        raise ValueError(f"hook {path}: a module hook needs its module_name")
    hook = str(path)
    base_dir = hooks_dir if hooks_dir is not None else _hooks_dir_of(path)
    argv, run_env = _command(path, kind, module_name, base_dir, env)
    completed = runner(argv, env=run_env, cwd=str(base_dir), timeout=timeout)
    _check_completed(completed, hook, timeout)
    return parse_hook_config(completed.stdout, hook=hook, kind=kind)


def _hooks_dir_of(path: Path) -> Path:
    for parent in path.parents:
        if parent.name == HOOKS_DIR_NAME:
            return parent
    return path.parent


def _command(
    path: Path,
    kind: HookKind,
    module_name: str | None,
    hooks_dir: Path,
    env: Mapping[str, str] | None,
) -> tuple[list[str], Mapping[str, str] | None]:
    """The argv and env of the run: a module's `*.py` hook goes through its venv if present."""
    if kind == "module" and path.suffix == ".py":
        python = hooks_dir / VENV_PYTHON
        if python.is_file() and os.access(python, os.X_OK):
            venv = python.parent.parent
            base_env = dict(os.environ if env is None else env)
            return [str(python), str(path), "--config"], {**base_env, "PYTHONHOME": str(venv)}
        log.warning(
            "module %s: hook %s: no executable %s, running the hook directly",
            module_name, path, python,
        )
    return [str(path), "--config"], env


def _check_completed(completed: Completed, hook: str, timeout: float) -> None:
    if completed.timed_out:
        problem = f"--config did not finish within {timeout:g}s and was killed"
    elif completed.exit_code != 0:
        problem = f"--config exited with code {completed.exit_code}"
    else:
        return
    tail = completed.stderr_tail()
    if tail:
        problem += f"; stderr:\n{tail}"
    raise HookConfigError(hook, [("", problem)])
