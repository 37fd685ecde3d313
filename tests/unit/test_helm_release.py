"""Pure release logic: parsing real helm JSON outputs, checksums, the upgrade decision, versions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from addon_operator.helm import (
    HelmError, HelmVersion, ManifestObject, ReleaseInfo, inputs_unchanged, manifest_checksum,
    manifest_objects, should_upgrade,
)
from addon_operator.helm.client import duration_seconds, format_duration
from addon_operator.helm.release import (
    normalize_time,
    parse_history,
    parse_list,
    parse_metadata,
    parse_release,
    parse_values_checksum,
    release_record_name,
    split_chart,
)

TESTDATA = Path(__file__).parent / "testdata" / "helm"


def _info(status: str = "deployed", checksum: str | None = "a" * 32) -> ReleaseInfo:
    return ReleaseInfo("echo", "addons", 2, status, "echo", "0.2.0", checksum=checksum, owned=True)


def test_checksum_is_md5_of_manifest_text() -> None:
    assert manifest_checksum("") == "d41d8cd98f00b204e9800998ecf8427e"
    assert manifest_checksum("a: 1\n") != manifest_checksum("a: 2\n")


@pytest.mark.parametrize(("info", "expected", "reason"), [
    (None, True, "no release installed"),
    (_info(status="failed"), True, "release revision 2 is failed, not deployed"),
    (_info(status="pending-upgrade"), True, "is pending-upgrade, not deployed"),
    (_info(checksum=None), True, "carries no manifest checksum"),
    (_info(checksum="b" * 32), True, f"checksum {'b' * 32} -> {'a' * 32}"),
    (_info(), False, "release revision 2 is up to date"),
])
def test_should_upgrade(info: ReleaseInfo | None, expected: bool, reason: str) -> None:
    decision, why = should_upgrade(info, "a" * 32)
    assert decision is expected and reason in why


def test_manifest_objects_of_helm_get_manifest() -> None:
    text = """---
# Source: echo/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: echo
---
# Source: echo/templates/empty.yaml
---
apiVersion: v1
kind: List
items:
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: reader}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: cfg, namespace: other}
---
apiVersion: v1
kind: ConfigMap
metadata:
  generateName: nameless-
"""
    assert manifest_objects(text) == [
        ManifestObject("v1", "Service", "echo"),
        ManifestObject("rbac.authorization.k8s.io/v1", "ClusterRole", "reader"),
        ManifestObject("v1", "ConfigMap", "cfg", "other"),
    ]
    with pytest.raises(HelmError, match="helm get manifest echo failed: unreadable manifest"):
        manifest_objects("kind: [unclosed", "echo")


@pytest.mark.parametrize(("info", "expected"), [
    (None, False),
    (_info(), False),                                           # installed before the label
    (replace(_info(), inputs_checksum="i" * 32), True),
    (replace(_info(), inputs_checksum="j" * 32), False),
    (replace(_info(status="failed"), inputs_checksum="i" * 32), False),
    (replace(_info(), inputs_checksum="i" * 32, owned=False), False),
])
def test_inputs_unchanged(info: ReleaseInfo | None, expected: bool) -> None:
    assert inputs_unchanged(info, "i" * 32) is expected


def test_release_record_name() -> None:
    assert release_record_name("cert-manager", 7) == "sh.helm.release.v1.cert-manager.v7"


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-11-23T23:41:05Z", "2025-11-23T23:41:05Z"),
    ("2025-11-23T23:41:05.123456789+01:00", "2025-11-23T22:41:05Z"),
    ("2025-11-23 23:41:05.5906 +0000 UTC", "2025-11-23T23:41:05Z"),
    ("", ""),
    ("yesterday", "yesterday"),
])
def test_normalize_time(text: str, expected: str) -> None:
    assert normalize_time(text) == expected


def test_split_chart() -> None:
    assert split_chart("cert-manager-1.2.3-rc.1") == ("cert-manager", "1.2.3-rc.1")
    assert split_chart("echo-0.2.0") == ("echo", "0.2.0")
    assert split_chart("odd") == ("odd", "")


def test_history_is_sorted_pairs() -> None:
    assert parse_history('[{"revision":2,"status":"deployed"},{"revision":1,"status":"superseded"}]') \
        == [(1, "superseded"), (2, "deployed")]


def test_values_checksum() -> None:
    assert parse_values_checksum("null\n") is None
    assert parse_values_checksum('{"a":1}') is None
    assert parse_values_checksum('{"_addonOperatorModuleChecksum":"x1"}') == "x1"


def test_unreadable_output_is_a_clear_error() -> None:
    with pytest.raises(HelmError, match="helm get metadata failed: unreadable JSON output"):
        parse_metadata("Error: oops")
    with pytest.raises(HelmError, match="expected a JSON list"):
        parse_list("{}", frozenset())


@pytest.mark.parametrize(("text", "version"), [
    ("v4.1.4+g05fa379\n", HelmVersion(4, 1, 4)),
    ("v3.15.4+gfa9efb0", HelmVersion(3, 15, 4)),
])
def test_version_parse(text: str, version: HelmVersion) -> None:
    assert HelmVersion.parse(text) == version


def test_version_capabilities() -> None:
    assert HelmVersion(4, 0, 0).takes_ownership and HelmVersion(4, 0, 0).metadata_has_labels
    assert HelmVersion(3, 17, 0).takes_ownership and not HelmVersion(3, 16, 9).takes_ownership
    assert not HelmVersion(3, 19, 0).metadata_has_labels
    HelmVersion(3, 13, 0).require_supported()
    with pytest.raises(HelmError, match="v2.17.0 is not supported"):
        HelmVersion(2, 17, 0).require_supported()
    with pytest.raises(HelmError, match="cannot read a version"):
        HelmVersion.parse("garbage")


def test_durations() -> None:
    assert duration_seconds("20m") == 1200 and duration_seconds("1h30m5s") == 5405
    assert duration_seconds("250ms") == 0.25
    assert format_duration(90) == "90s" and format_duration(1.5) == "1.5s"
    assert format_duration("5m") == "5m"
    with pytest.raises(ValueError, match="'5 m' is not a duration"):
        duration_seconds("5 m")


# The fixtures are outputs of the pinned helm v4.1.4 against the sandbox API server.

def _fixture(name: str) -> str:
    return (TESTDATA / name).read_text()


def test_parse_metadata_of_owned_release() -> None:
    info = parse_metadata(_fixture("get-metadata-v4.json"))
    assert info == ReleaseInfo(
        name="echo", namespace="addons", revision=1, status="deployed", chart="echo",
        chart_version="0.2.0", app_version="1.0", last_deployed="2026-11-23T23:27:37Z",
        checksum="aaaa", owned=True, labels={"heritage": "addon-operator", "moduleChecksum": "aaaa"},
    )
    assert not info.pending


def test_parse_metadata_of_foreign_and_pending_releases() -> None:
    foreign = parse_metadata(_fixture("get-metadata-foreign-v4.json"))
    assert (foreign.name, foreign.owned, foreign.checksum, dict(foreign.labels)) == ("foreign", False, None, {})
    pending = parse_metadata(_fixture("get-metadata-pending-v4.json"))
    assert pending.pending and pending.revision == 2 and pending.status == "pending-upgrade"


def test_parse_metadata_reads_the_inputs_label() -> None:
    text = _fixture("get-metadata-v4.json").replace(
        '"moduleChecksum": "aaaa",', '"moduleChecksum": "aaaa", "moduleInputsChecksum": "bbbb",')
    info = parse_metadata(text)
    assert (info.checksum, info.inputs_checksum) == ("aaaa", "bbbb")
    assert parse_metadata(_fixture("get-metadata-v4.json")).inputs_checksum is None


def test_parse_upgrade_output() -> None:
    labels = {"moduleChecksum": "c" * 32, "heritage": "addon-operator",
              "moduleInputsChecksum": "d" * 32}
    info = parse_release(_fixture("upgrade-v4.json"), labels)
    assert (info.name, info.namespace, info.revision, info.status) == ("echo", "addons", 1, "deployed")
    assert (info.chart, info.chart_version, info.app_version) == ("echo", "0.2.0", "1.0")
    assert info.last_deployed == "2026-11-23T23:27:37Z"
    assert info.checksum == "c" * 32 and info.owned and info.inputs_checksum == "d" * 32


def test_parse_list_output() -> None:
    releases = parse_list(_fixture("list-v4.json"), frozenset({"echo"}))
    assert [(r.name, r.revision, r.status, r.chart, r.chart_version, r.owned) for r in releases] == [
        ("echo", 1, "deployed", "echo", "0.2.0", True),
        ("foreign", 1, "deployed", "echo", "0.2.0", False),
    ]
    assert releases[0].last_deployed == "2026-11-23T23:27:37Z"
    assert parse_list("null", frozenset()) == []


def test_parse_history_output() -> None:
    # A history after `helm rollback 1` recovered a release stuck in pending-upgrade.
    assert parse_history(_fixture("history-v4.json")) == [
        (1, "superseded"), (2, "pending-upgrade"), (3, "deployed")]


def test_parse_version_output() -> None:
    assert HelmVersion.parse(_fixture("version-v4.txt")) == HelmVersion(4, 1, 4)
