"""HelmClient: argv and environment of every helm call, and its decisions, with a spy runner."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from addon_operator.helm import HelmClient, HelmError, ReleaseNotOwnedError
from addon_operator.runner import Completed

TESTDATA = Path(__file__).parent / "testdata" / "helm"
NOT_FOUND = "Error: release: not found\n"


def _key(args: Sequence[str]) -> str:
    if args[0] == "get":
        return f"get {args[1]}"
    if args[0] == "list":
        return "list owned" if "--selector" in args else "list"
    return args[0]


class SpyRunner:
    """Answers helm calls by subcommand (`get metadata`, `upgrade`, ...) and records them."""

    def __init__(self, version: str = "v4.1.4+g05fa379") -> None:
        self.answers: dict[str, list[Completed]] = {}
        self.calls: list[tuple[list[str], Mapping[str, str], float | None]] = []
        self.answer("version", stdout=version + "\n")

    def answer(self, key: str, *, stdout: str = "", stderr: str = "", code: int = 0,
               timed_out: bool = False) -> None:
        self.answers.setdefault(key, []).append(
            Completed((), code, stdout, stderr, 0.01, timed_out=timed_out))

    def __call__(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                 cwd: str | None = None, timeout: float | None = None,
                 stdin: str | None = None) -> Completed:
        assert argv[0] == "/opt/helm"
        args = list(argv[1:])
        self.calls.append((args, dict(env or {}), timeout))
        queue = self.answers.get(_key(args))
        assert queue, f"unexpected helm call: {args}"
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def argv(self, key: str) -> list[list[str]]:
        return [args for args, _, _ in self.calls if _key(args) == key]


def _client(tmp_path: Path, spy: SpyRunner, **kwargs: object) -> HelmClient:
    return HelmClient("addons", home=tmp_path / "helm-home", binary="/opt/helm", runner=spy,
                      kubeconfig="/k/config", base_env={"PATH": "/bin", "HOME": "/root",
                      "HELM_DRIVER": "sql", "HELM_REPOSITORY_CONFIG": "/x", "KUBECONFIG": "/ignored"},
                      **kwargs)  # type: ignore[arg-type]


def _metadata(status: str = "deployed", revision: int = 1, labels: dict[str, str] | None = None) -> str:
    doc = json.loads((TESTDATA / "get-metadata-v4.json").read_text())
    doc.update(status=status, revision=revision)
    if labels is None:
        doc.pop("labels", None)
    else:
        doc["labels"] = labels
    return json.dumps(doc)


OWNED = {"moduleChecksum": "0" * 32, "heritage": "addon-operator"}


def test_environment_is_private_and_minimal(tmp_path: Path) -> None:
    spy = SpyRunner()
    client = _client(tmp_path, spy)
    home = tmp_path / "helm-home"
    assert client.env == {
        "PATH": "/bin", "HOME": "/root",
        "HELM_CACHE_HOME": str(home / "cache"), "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"), "HELM_DRIVER": "secret",
        "HELM_NAMESPACE": "addons", "KUBECONFIG": "/k/config",
    }
    assert all(not any((home / d).iterdir()) for d in ("cache", "config", "data"))
    spy.answer("template", stdout="")
    client.render("echo", Path("/c"), Path("/v.yaml"))
    assert all(env == client.env for _, env, _ in spy.calls)


def test_kubeconfig_defaults_to_the_callers(tmp_path: Path) -> None:
    client = HelmClient("ns", home=tmp_path, base_env={"KUBECONFIG": "/mine"}, driver="configmap")
    assert client.env["KUBECONFIG"] == "/mine" and client.env["HELM_DRIVER"] == "configmap"


def test_render_uses_template_as_an_upgrade(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("template", stdout="---\nkind: ConfigMap\n")
    assert _client(tmp_path, spy).render("echo", Path("/c"), Path("/v.yaml")) == "---\nkind: ConfigMap\n"
    assert spy.argv("template") == [["template", "echo", "/c", "--namespace", "addons",
                                     "--values", "/v.yaml", "--is-upgrade"]]


def test_status_of_missing_release_is_none(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("get metadata", stderr=NOT_FOUND, code=1)
    assert _client(tmp_path, spy).status("echo") is None


def test_manifest_of_latest_revision_or_none(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("get manifest", stdout="---\nkind: ConfigMap\n")
    spy.answer("get manifest", stderr=NOT_FOUND, code=1)
    client = _client(tmp_path, spy)
    assert client.manifest("echo") == "---\nkind: ConfigMap\n"
    assert client.manifest("echo") is None
    assert spy.argv("get manifest")[0] == ["get", "manifest", "echo", "--namespace", "addons"]


def test_status_reads_checksum_label_with_helm4(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("get metadata", stdout=_metadata(labels=OWNED))
    info = _client(tmp_path, spy).status("echo")
    assert info is not None and info.checksum == "0" * 32 and info.owned
    assert spy.argv("get metadata") == [["get", "metadata", "echo", "--namespace", "addons",
                                         "--output", "json"]]
    assert spy.argv("get values") == []


def test_status_with_helm3_reads_checksum_from_values(tmp_path: Path) -> None:
    spy = SpyRunner("v3.18.4+gd80839c")
    spy.answer("get metadata", stdout=_metadata(labels=None))
    spy.answer("get values", stdout=json.dumps({"_addonOperatorModuleChecksum": "ab" * 16, "x": 1}))
    info = _client(tmp_path, spy).status("echo")
    assert info is not None and info.checksum == "ab" * 16 and info.owned


def test_status_with_helm3_of_foreign_release(tmp_path: Path) -> None:
    spy = SpyRunner("v3.18.4+gd80839c")
    spy.answer("get metadata", stdout=_metadata(labels=None))
    spy.answer("get values", stdout="null\n")
    info = _client(tmp_path, spy).status("echo")
    assert info is not None and info.checksum is None and not info.owned


def test_other_failures_raise_with_stderr_tail(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("get metadata", stderr="Error: Kubernetes cluster unreachable: connection refused\n",
               code=1)
    with pytest.raises(HelmError, match="helm get metadata echo failed: Error: Kubernetes cluster "
                                        "unreachable") as caught:
        _client(tmp_path, spy).status("echo")
    assert caught.value.operation == "get metadata" and caught.value.release == "echo"


def _upgrade_output() -> str:
    return (TESTDATA / "upgrade-v4.json").read_text()


def test_upgrade_argv_with_helm4(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("get metadata", stdout=_metadata(labels=OWNED))
    spy.answer("upgrade", stdout=_upgrade_output())
    client = _client(tmp_path, spy, history_max=3, timeout=90)
    info = client.upgrade("echo", Path("/c"), Path("/v.yaml"), "f" * 32)
    assert spy.argv("upgrade") == [[
        "upgrade", "--install", "echo", "/c", "--namespace", "addons", "--values", "/v.yaml",
        "--history-max", "3", "--timeout", "90s", "--skip-crds",
        "--labels", f"moduleChecksum={'f' * 32},heritage=addon-operator", "--output", "json",
        "--take-ownership",
    ]]
    upgrade_timeout = [t for args, _, t in spy.calls if args[0] == "upgrade"]
    assert upgrade_timeout == [150.0]
    assert info.checksum == "f" * 32 and info.owned and info.status == "deployed"


@pytest.mark.parametrize("version", ["v4.1.4+g05fa379", "v3.18.4+gd80839c"])
def test_upgrade_labels_the_inputs_checksum(tmp_path: Path, version: str) -> None:
    spy = SpyRunner(version)
    spy.answer("get metadata", stderr=NOT_FOUND, code=1)
    spy.answer("upgrade", stdout=_upgrade_output())
    info = _client(tmp_path, spy).upgrade("echo", Path("/c"), Path("/v.yaml"), "f" * 32,
                                          inputs_checksum="1" * 32)
    [args] = spy.argv("upgrade")
    assert args[args.index("--labels") + 1] == (
        f"moduleChecksum={'f' * 32},heritage=addon-operator,moduleInputsChecksum={'1' * 32}")
    assert info.inputs_checksum == "1" * 32 and info.checksum == "f" * 32


def test_status_reads_inputs_label_with_helm4(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("get metadata", stdout=_metadata(labels={**OWNED, "moduleInputsChecksum": "2" * 32}))
    info = _client(tmp_path, spy).status("echo")
    assert info is not None and info.inputs_checksum == "2" * 32


@pytest.mark.parametrize(("version", "ownership"), [("v3.15.4+gfa9efb0", False),
                                                    ("v3.17.0+g301108e", True)])
def test_upgrade_argv_with_helm3(tmp_path: Path, version: str, ownership: bool) -> None:
    spy = SpyRunner(version)
    spy.answer("get metadata", stderr=NOT_FOUND, code=1)
    spy.answer("upgrade", stdout=_upgrade_output())
    _client(tmp_path, spy, extra_labels={"team": "core"}).upgrade(
        "echo", Path("/c"), Path("/v.yaml"), "e" * 32)
    [args] = spy.argv("upgrade")
    assert ("--take-ownership" in args) is ownership
    assert args[args.index("--labels") + 1] == f"moduleChecksum={'e' * 32},team=core"
    assert args[-2:] == ["--set-string", f"_addonOperatorModuleChecksum={'e' * 32}"]
    assert args[args.index("--timeout") + 1] == "20m"


def test_old_helm3_is_refused(tmp_path: Path) -> None:
    spy = SpyRunner("v3.12.3+g3a31588")
    spy.answer("get metadata", stdout=_metadata(labels=None))
    with pytest.raises(HelmError, match=r"helm v3.12.3 is not supported: need v3.13"):
        _client(tmp_path, spy).status("echo")


def test_pending_release_record_is_deleted_before_upgrade(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("get metadata", stdout=_metadata(status="pending-upgrade", revision=4, labels=OWNED))
    spy.answer("upgrade", stdout=_upgrade_output())
    deleted: list[tuple[str, str, int]] = []
    client = _client(tmp_path, spy, delete_release_record=lambda *a: deleted.append(a))
    client.upgrade("echo", Path("/c"), Path("/v.yaml"), "f" * 32)
    assert deleted == [("echo", "addons", 4)]
    assert [args[0] for args, _, _ in spy.calls] == ["get", "version", "upgrade"]


def _history(*statuses: str) -> str:
    return json.dumps([{"revision": i, "status": s, "chart": "echo-0.2.0"}
                       for i, s in enumerate(statuses, 1)])


def test_pending_upgrade_without_record_deleter_rolls_back(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("get metadata", stdout=_metadata(status="pending-upgrade", revision=3, labels=OWNED))
    spy.answer("history", stdout=_history("superseded", "deployed", "pending-upgrade"))
    spy.answer("rollback", stdout="Rollback was a success!\n")
    spy.answer("upgrade", stdout=_upgrade_output())
    _client(tmp_path, spy).upgrade("echo", Path("/c"), Path("/v.yaml"), "f" * 32)
    assert spy.argv("rollback") == [["rollback", "echo", "2", "--namespace", "addons",
                                     "--history-max", "10", "--timeout", "20m"]]
    assert spy.argv("uninstall") == []


def test_pending_install_without_record_deleter_uninstalls(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("get metadata", stdout=_metadata(status="pending-install", revision=1, labels=OWNED))
    spy.answer("history", stdout=_history("pending-install"))
    spy.answer("uninstall", stdout="release \"echo\" uninstalled\n")
    spy.answer("upgrade", stdout=_upgrade_output())
    _client(tmp_path, spy).upgrade("echo", Path("/c"), Path("/v.yaml"), "f" * 32)
    assert spy.argv("uninstall") == [["uninstall", "echo", "--namespace", "addons", "--timeout", "20m"]]
    assert spy.argv("rollback") == []


def test_upgrade_failure_names_release_and_stderr(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("get metadata", stderr=NOT_FOUND, code=1)
    spy.answer("upgrade", code=1, stderr="walk.go:74: noise\nError: UPGRADE FAILED: boom\n")
    with pytest.raises(HelmError) as caught:
        _client(tmp_path, spy).upgrade("echo", Path("/c"), Path("/v.yaml"), "f" * 32)
    assert caught.value.operation == "upgrade"
    assert caught.value.detail.endswith("Error: UPGRADE FAILED: boom")


def test_timed_out_upgrade_says_so(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("get metadata", stderr=NOT_FOUND, code=1)
    spy.answer("upgrade", code=-9, timed_out=True)
    with pytest.raises(HelmError, match="timed out"):
        _client(tmp_path, spy).upgrade("echo", Path("/c"), Path("/v.yaml"), "f" * 32)


def test_uninstall_of_owned_release(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("get metadata", stdout=_metadata(labels=OWNED))
    spy.answer("uninstall", stdout="release \"echo\" uninstalled\n")
    assert _client(tmp_path, spy).uninstall("echo") is True
    assert spy.argv("uninstall") == [["uninstall", "echo", "--namespace", "addons", "--timeout", "20m"]]


def test_uninstall_of_missing_release_is_false(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("get metadata", stderr=NOT_FOUND, code=1)
    assert _client(tmp_path, spy).uninstall("echo") is False
    assert spy.argv("uninstall") == []


def test_uninstall_never_touches_foreign_release(tmp_path: Path) -> None:
    spy = SpyRunner()
    spy.answer("get metadata", stdout=_metadata(labels={"team": "other"}))
    with pytest.raises(ReleaseNotOwnedError, match="addons/echo was not created by addon-operator"):
        _client(tmp_path, spy).uninstall("echo")
    assert spy.argv("uninstall") == []


def test_list_releases_marks_owned_ones(tmp_path: Path) -> None:
    spy = SpyRunner()
    listing = json.loads((TESTDATA / "list-v4.json").read_text())
    spy.answer("list", stdout=json.dumps(listing))
    spy.answer("list owned", stdout=json.dumps([r for r in listing if r["name"] != "foreign"]))
    releases = _client(tmp_path, spy).list_releases()
    assert {r.name: r.owned for r in releases} == {
        r["name"]: r["name"] != "foreign" for r in listing}
    assert spy.argv("list owned") == [["list", "--namespace", "addons", "--max", "10000",
                                       "--output", "json", "--selector", "moduleChecksum"]]


def test_list_releases_with_helm3_asks_for_all_statuses(tmp_path: Path) -> None:
    spy = SpyRunner("v3.19.0+g3d8990f")
    spy.answer("list", stdout="[]")
    spy.answer("list owned", stdout="[]")
    assert _client(tmp_path, spy).list_releases() == []
    assert all("--all" in args for args in spy.argv("list") + spy.argv("list owned"))


def test_bad_settings_are_refused_early(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        HelmClient("ns", home=tmp_path, timeout="twenty minutes", base_env={})
    with pytest.raises(ValueError, match="may not be empty or contain"):
        HelmClient("ns", home=tmp_path, extra_labels={"a": "b,c"}, base_env={})
    with pytest.raises(ValueError, match="'moduleChecksum' is set by addon-operator itself"):
        HelmClient("ns", home=tmp_path, extra_labels={"moduleChecksum": "x"}, base_env={})
    with pytest.raises(ValueError, match="'moduleInputsChecksum' is set by addon-operator"):
        HelmClient("ns", home=tmp_path, extra_labels={"moduleInputsChecksum": "x"}, base_env={})
