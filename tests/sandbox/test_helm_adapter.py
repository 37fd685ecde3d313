"""The Helm adapter against the sandbox API server with the real pinned helm binary.

One release goes through the whole life the runtime gives it: install, skip when nothing
changed, upgrade on change, repair of a failed release, recovery from pending-upgrade (both
ways), uninstall; a release the operator did not create is never removed. Unchanged render
inputs are not even rendered; an edited template is.

A release is left in `pending-upgrade` the way a crash leaves it: helm is killed while it waits
on a pre-upgrade hook Job that nothing completes (the sandbox runs no workloads).

Every test runs with both supported CLIs: helm v4 (`helm`) and helm v3 (`helm3`), each in a
namespace of its own; `make setup` installs both (scripts/install-tools.sh).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from addon_operator.helm import (
    HelmClient,
    HelmError,
    ReleaseNotOwnedError,
    inputs_unchanged,
    manifest_checksum,
    prepare_chart,
    release_record_name,
    should_upgrade,
)
from addon_operator.runner import Completed, run

MODULE = Path(__file__).parent.parent / "unit" / "testdata" / "helm" / "modules" / "010-echo"
KILL_AFTER_SECONDS = 2.0


@dataclass(frozen=True)
class Cli:
    """One helm CLI under test and the release namespace its tests use."""

    binary: str
    namespace: str

    @property
    def unchanged(self) -> str:
        """Why a second run with the same inputs does not upgrade: helm v4 prints the release
        labels, so the inputs checksum skips even the render; helm v3 does not, so the render's
        checksum is compared (helm/client.py)."""
        return "inputs unchanged" if self.binary == "helm" else "release revision 1 is up to date"


@pytest.fixture(scope="module", params=[Cli("helm", "helm-adapter"),
                                        Cli("helm3", "helm-adapter-v3")], ids=lambda c: c.binary)
def cli(request: pytest.FixtureRequest) -> Cli:
    selected: Cli = request.param
    assert shutil.which(selected.binary), f"{selected.binary} is not on PATH: run `make setup`"
    return selected


@pytest.fixture(scope="module")
def core(api_client: client.ApiClient, cli: Cli) -> client.CoreV1Api:
    api = client.CoreV1Api(api_client)
    api.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=cli.namespace)))
    return api


def _killing_runner(argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                    cwd: str | None = None, timeout: float | None = None,
                    stdin: str | None = None) -> Completed:
    """Runs helm, but SIGKILLs an upgrade after a few seconds, like an operator crash would
    (the runner's own timeout sends SIGTERM first, which helm answers by failing the release
    cleanly: not what a crash leaves behind)."""
    if "upgrade" not in argv:
        return run(argv, env=env, cwd=cwd, timeout=timeout, stdin=stdin)
    started = time.monotonic()
    proc = subprocess.Popen(list(argv), env=dict(env) if env is not None else None, cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=KILL_AFTER_SECONDS)
        return Completed(tuple(argv), proc.returncode, out, err, time.monotonic() - started)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return Completed(tuple(argv), -9, out, err, time.monotonic() - started, timed_out=True)


class Module:
    """The echo module as the runtime drives it: values file → inputs checksum → status → (render
    → checksum → upgrade, unless the release was made from the same inputs)."""

    def __init__(self, helm: HelmClient, workdir: Path, source: Path = MODULE,
                 release: str = "echo") -> None:
        self.helm = helm
        self.workdir = workdir
        self.release = release
        self.chart = prepare_chart(source, release, workdir / "charts")

    def values_file(self, **values: object) -> Path:
        path = self.workdir / f"{self.release}.values.yaml"
        path.write_text(json.dumps({"global": {}, "echo": values}))
        return path

    def render(self, **values: object) -> tuple[Path, str]:
        values_file = self.values_file(**values)
        return values_file, manifest_checksum(self.helm.render(self.release, self.chart, values_file))

    def converge(self, **values: object) -> tuple[bool, str, int | None]:
        """One module run's Helm step: (upgraded, reason, revision after)."""
        values_file = self.values_file(**values)
        inputs = self.helm.inputs_checksum(self.release, self.chart, values_file)
        current = self.helm.status(self.release)
        if inputs_unchanged(current, inputs):
            assert current is not None
            return False, "inputs unchanged", current.revision
        checksum = manifest_checksum(self.helm.render(self.release, self.chart, values_file))
        needed, reason = should_upgrade(current, checksum)
        if needed:
            info = self.helm.upgrade(self.release, self.chart, values_file, checksum,
                                     inputs_checksum=inputs)
            assert info.status == "deployed" and info.checksum == checksum and info.owned
            assert info.inputs_checksum == inputs
        after = self.helm.status(self.release)
        return needed, reason, after.revision if after else None


def _greeting(core: client.CoreV1Api, cli: Cli, name: str = "echo-greeting") -> str | None:
    try:
        return core.read_namespaced_config_map(name, cli.namespace).data["greeting"]
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _client(tmp_path: Path, kubeconfig: Path, cli: Cli, **kwargs: object) -> HelmClient:
    return HelmClient(cli.namespace, home=tmp_path / "helm", binary=cli.binary,
                      kubeconfig=str(kubeconfig), history_max=5, timeout="2m",
                      **kwargs)  # type: ignore[arg-type]


def _leave_pending(tmp_path: Path, kubeconfig: Path, cli: Cli, module: Module) -> int:
    crashing = Module(_client(tmp_path, kubeconfig, cli, runner=_killing_runner), tmp_path)
    values_file, checksum = crashing.render(greeting="never", hangUpgrade=True)
    with pytest.raises(HelmError, match="timed out"):
        crashing.helm.upgrade("echo", crashing.chart, values_file, checksum)
    info = module.helm.status("echo")
    assert info is not None and info.status == "pending-upgrade"
    return info.revision


def test_release_lifecycle(tmp_path: Path, kubeconfig: Path, cli: Cli,
                           core: client.CoreV1Api) -> None:
    helm = _client(tmp_path, kubeconfig, cli)
    module = Module(helm, tmp_path)

    assert module.converge(greeting="hi") == (True, "no release installed", 1)
    assert _greeting(core, cli) == "hi"
    assert module.converge(greeting="hi") == (False, cli.unchanged, 1)

    upgraded, reason, revision = module.converge(greeting="bye")
    assert (upgraded, revision) == (True, 2) and "rendered manifests changed" in reason
    assert _greeting(core, cli) == "bye"

    # A manifest the API server rejects leaves the release failed; the next run repairs it.
    with pytest.raises(HelmError, match="upgrade echo failed"):
        module.converge(greeting="bye", name="Not_A_Valid_Name")
    failed = helm.status("echo")
    assert failed is not None and failed.status == "failed" and failed.revision == 3
    assert module.converge(greeting="bye") == (True, "release revision 3 is failed, not deployed", 4)

    # Stuck in pending-upgrade, no record deleter: helm rolls back, then upgrades.
    pending = _leave_pending(tmp_path, kubeconfig, cli, module)
    assert pending == 5
    upgraded, reason, revision = module.converge(greeting="again")
    assert (upgraded, revision) == (True, 7) and "pending-upgrade" in reason
    assert _greeting(core, cli) == "again"

    # Stuck again; this time the runtime's record deleter removes the pending Secret, as upstream.
    pending = _leave_pending(tmp_path, kubeconfig, cli, module)
    deleted: list[str] = []

    def delete_record(name: str, namespace: str, revision: int) -> None:
        deleted.append(release_record_name(name, revision))
        core.delete_namespaced_secret(release_record_name(name, revision), namespace)

    module.helm = _client(tmp_path, kubeconfig, cli, delete_release_record=delete_record)
    assert module.converge(greeting="once more")[0::2] == (True, pending)
    assert deleted == [f"sh.helm.release.v1.echo.v{pending}"]
    assert _greeting(core, cli) == "once more"

    assert helm.uninstall("echo") is True
    assert helm.status("echo") is None and _greeting(core, cli) is None
    assert helm.uninstall("echo") is False


def test_foreign_release_is_never_uninstalled(tmp_path: Path, kubeconfig: Path, cli: Cli,
                                              core: client.CoreV1Api) -> None:
    helm = _client(tmp_path, kubeconfig, cli)
    module = Module(helm, tmp_path)
    values_file, _ = module.render(greeting="theirs", name="foreign-greeting")
    installed = run([cli.binary, "install", "foreign", str(module.chart), "--values", str(values_file)],
                    env=helm.env, timeout=60)
    assert installed.ok, installed.stderr
    assert module.converge(greeting="ours")[0] is True

    owned = {r.name: r.owned for r in helm.list_releases()}
    assert owned == {"foreign": False, "echo": True}
    with pytest.raises(ReleaseNotOwnedError, match=f"{cli.namespace}/foreign was not created"):
        helm.uninstall("foreign")
    assert _greeting(core, cli, "foreign-greeting") == "theirs"
    assert helm.uninstall("echo") is True


class CountingRunner:
    """Runs helm for real and counts the subcommands it was asked for."""

    def __init__(self) -> None:
        self.subcommands: list[str] = []

    def __call__(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                 cwd: str | None = None, timeout: float | None = None,
                 stdin: str | None = None) -> Completed:
        self.subcommands.append(argv[1])
        return run(argv, env=env, cwd=cwd, timeout=timeout, stdin=stdin)


def test_unchanged_inputs_skip_the_render(tmp_path: Path, kubeconfig: Path, cli: Cli,
                                          core: client.CoreV1Api) -> None:
    source = tmp_path / "010-echo"
    shutil.copytree(MODULE, source)
    counting = CountingRunner()
    module = Module(_client(tmp_path, kubeconfig, cli, runner=counting), tmp_path, source, "fast")
    assert module.converge(greeting="hi")[0::2] == (True, 1)
    assert counting.subcommands.count("template") == 1

    counting.subcommands.clear()
    assert module.converge(greeting="hi") == (False, cli.unchanged, 1)
    if cli.binary == "helm":
        assert counting.subcommands == ["get"], "only the release status was asked for"
    else:   # metadata, the checksum from the values, the render, the status after
        assert counting.subcommands == ["get", "get", "template", "get", "get"]

    counting.subcommands.clear()
    template = source / "templates" / "configmap.yaml"
    template.write_text(template.read_text().replace("greeting:", "said:"))
    upgraded, reason, revision = module.converge(greeting="hi")
    assert (upgraded, revision) == (True, 2) and "rendered manifests changed" in reason
    assert counting.subcommands.count("template") == 1
    assert core.read_namespaced_config_map("fast-greeting", cli.namespace).data == {"said": "hi"}
    assert module.helm.uninstall("fast") is True
