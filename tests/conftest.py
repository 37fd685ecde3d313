"""Test-wide set-up: the pinned helm, helm3 and kubectl in .tools/bin come first on PATH.

`make setup` installs them (scripts/install-tools.sh). Tests use them unconditionally: a run
without them stops at once with that advice instead of skipping the tests that need them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = ROOT / ".tools" / "bin"
TOOLS = ("helm", "helm3", "kubectl")

if TOOLS_BIN.is_dir() and str(TOOLS_BIN) not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}"


def pytest_sessionstart(session: pytest.Session) -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise pytest.UsageError(f"{', '.join(missing)} not found on PATH or in {TOOLS_BIN}: "
                                "run `make setup` (scripts/install-tools.sh) first")
