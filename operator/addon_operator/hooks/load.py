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
from .interpreter import hook_argv

log = logging.getLogger(__name__)

HOOKS_DIR_NAME = "hooks"


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
    argv, run_env = hook_argv(
        path, kind=kind, hooks_dir=base_dir, env=os.environ if env is None else env
    )
    completed = runner([*argv, "--config"], env=run_env, cwd=str(base_dir), timeout=timeout)
    _check_completed(completed, hook, timeout)
    return parse_hook_config(completed.stdout, hook=hook, kind=kind)


def _hooks_dir_of(path: Path) -> Path:
    for parent in path.parents:
        if parent.name == HOOKS_DIR_NAME:
            return parent
    return path.parent


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
