"""scripts/install-tools.sh: a binary of the pinned version already on PATH is linked instead of
downloaded (README.md); one of another version is passed over; unknown names are
refused. Fake binaries print versions, so nothing is downloaded here."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-tools.sh"


def fake(directory: Path, name: str, printed: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{printed}'\n")
    path.chmod(0o755)
    return path


def install(tmp_path: Path, path_dirs: list[Path], *names: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TOOLS_BIN": str(tmp_path / "bin"),
           "PATH": os.pathsep.join([*map(str, path_dirs), "/usr/bin", "/bin"])}
    return subprocess.run(["bash", str(SCRIPT), *names], env=env, capture_output=True, text=True,
                          timeout=60)


def test_pinned_versions_on_path_are_linked(tmp_path: Path) -> None:
    older = tmp_path / "older"
    newer = tmp_path / "newer"
    fake(older, "helm", "v3.12.0+gold")                   # neither v4.1.4 nor v3.17.3
    helm = fake(newer, "helm", "v4.1.4+g05fa379")
    helm3 = fake(newer, "helm3", "v3.17.3+ge4da497")
    kubectl = fake(newer, "kubectl", "Client Version: v1.35.2\nKustomize Version: v5.7.1")
    done = install(tmp_path, [older, newer])
    assert done.returncode == 0, done.stderr
    links = {p.name: Path(os.readlink(p)) for p in (tmp_path / "bin").iterdir()}
    assert links == {"helm": helm, "helm3": helm3, "kubectl": kubectl}
    assert "linked" in done.stdout and "installed" not in done.stdout


def test_unknown_tools_are_refused(tmp_path: Path) -> None:
    done = install(tmp_path, [], "helm", "tiller")
    assert done.returncode == 2
    assert "install-tools.sh: unknown tool tiller" in done.stderr
