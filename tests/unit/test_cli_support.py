"""Running the real `addon-operator` entry point (`python -m addon_operator`) for the CLI tests.

No tests here: `test_cli_validate.py`, `test_cli_render.py` and `test_cli_modules.py` import it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = Path(__file__).parent / "testdata" / "manifests"
VALID = MANIFESTS / "valid"
BROKEN = MANIFESTS / "broken"


def run_cli(
    *args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m addon_operator ARGS` with PYTHONPATH=operator; `env` adds or replaces variables.

    Variables that choose directories are dropped from the inherited environment first, so
    only the test decides them.
    """
    base = {
        k: v for k, v in os.environ.items()
        if not k.endswith(("MODULES_DIR", "HOOKS_DIR")) and k != "ADDON_OPERATOR_NAMESPACE"
    }
    base["PYTHONPATH"] = str(ROOT / "operator")
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "addon_operator", *map(str, args)],
        cwd=cwd, env=base, capture_output=True, text=True, timeout=60,
    )


def objects(stdout: str) -> dict[str, dict]:
    """Rendered manifests by `Kind/name`."""
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in yaml.safe_load_all(stdout) if d}


def write_module(modules_dir: Path, dirname: str, files: dict[str, str]) -> Path:
    """A module directory with the given files (paths relative to it; `enabled` gets +x)."""
    module = modules_dir / dirname
    module.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = module / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if rel == "enabled" or rel.startswith("hooks/"):
            path.chmod(0o755)
    return module
