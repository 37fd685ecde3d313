"""How a hook file is started: directly, or a module's `*.py` hook through the module's venv.

Upstream rule (addon-operator `shellhook.go`): a module hook ending in `.py` runs as
`<module>/hooks/venv/bin/python3 <hook>` with `PYTHONHOME=<venv>` when that python exists and is
executable; everything else is executed directly. Both the `--config` run (`load.py`) and the
real runs (`execute.py`) start hooks through `hook_argv`, so the two can never disagree.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

HookKind = Literal["global", "module"]
VENV_DIR = "venv"                              # under the module's hooks dir
VENV_PYTHON = Path("bin") / "python3"          # relative to the venv


def hook_argv(
    path: Path, *, kind: HookKind, hooks_dir: Path, env: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """argv (without arguments for the hook) and env to start the hook at `path`."""
    if kind == "module" and path.suffix == ".py":
        venv = hooks_dir / VENV_DIR
        python = venv / VENV_PYTHON
        if python.is_file() and os.access(python, os.X_OK):
            return [str(python), str(path)], {**env, "PYTHONHOME": str(venv)}
        _warn_no_venv(path, python)
    return [str(path)], dict(env)


@functools.cache
def _warn_no_venv(path: Path, python: Path) -> None:
    """Once per hook, not on every run: the hook still runs, with the python on its shebang."""
    log.warning("hook %s: no executable %s, running the hook directly", path, python)
