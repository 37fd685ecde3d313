"""Releases as data: parsing helm's JSON outputs and deciding whether to upgrade.

Pure functions, no I/O. `HelmClient` (client.py) feeds them helm's stdout; the module runtime calls
`inputs_unchanged` and `should_upgrade` and copies `ReleaseInfo` into `Module.status.release`; the
resource monitor reads the objects of a release's manifest with `manifest_objects`. The checksum
rule is upstream's (docs/modules.md, "Chart, synthetic chart, or hooks only"): the MD5 of the
rendered manifest text, kept as the release label `moduleChecksum`. Next to it the label
`moduleInputsChecksum` keeps the checksum of the render's inputs (inputs.py), so an unchanged module
is not even rendered.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import yaml

from addon_operator.yamlload import JsonCompatibleLoader

from .errors import HelmError

CHECKSUM_LABEL = "moduleChecksum"
INPUTS_CHECKSUM_LABEL = "moduleInputsChecksum"
# Upstream's legacy place for the checksum: a key in the release values. Used with helm v3,
# whose `helm get metadata` does not print release labels.
CHECKSUM_VALUES_KEY = "_addonOperatorModuleChecksum"
DEFAULT_EXTRA_LABELS = {"heritage": "addon-operator"}  # upstream's ADDON_OPERATOR_CRD_EXTRA_LABELS
# Labels helm itself puts on every release record; not ours, not shown in ReleaseInfo.labels.
HELM_SYSTEM_LABELS = frozenset({"name", "owner", "status", "version", "createdAt", "modifiedAt"})
PENDING_STATUSES = frozenset({"pending-install", "pending-upgrade", "pending-rollback"})

_TIME_RE = re.compile(
    r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.\d+)?\s*(Z|[+-]\d\d:?\d\d)?"
)
_CHART_RE = re.compile(r"^(.+?)-(v?\d+\.\d+\.\d+\S*)$")


@dataclass(frozen=True)
class ReleaseInfo:
    """The latest revision of one release, as `Module.status.release` reports it."""

    name: str
    namespace: str
    revision: int
    status: str                     # deployed, failed, superseded, pending-install, ...
    chart: str
    chart_version: str
    app_version: str = ""
    last_deployed: str = ""         # RFC 3339, UTC, seconds precision
    checksum: str | None = None     # the `moduleChecksum` we stored, when known
    owned: bool = False             # created by addon-operator (has the moduleChecksum label)
    inputs_checksum: str | None = None  # the `moduleInputsChecksum` we stored, when known
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def pending(self) -> bool:
        return self.status in PENDING_STATUSES


def manifest_checksum(manifest: str) -> str:
    """MD5 hex of the rendered manifest text (upstream's `moduleChecksum`)."""
    return hashlib.md5(manifest.encode()).hexdigest()


def inputs_unchanged(info: ReleaseInfo | None, inputs: str) -> bool:
    """Whether the release is ours, deployed, and was made from exactly these render inputs.

    Then rendering could only reproduce the manifests it holds, so the render is skipped. A
    release whose last upgrade predates the inputs label (or made with helm v3, whose
    `get metadata` shows no labels) never matches: it is rendered, and gets the label with its
    next upgrade.
    """
    return (info is not None and info.status == "deployed" and info.owned
            and info.inputs_checksum == inputs)


def should_upgrade(info: ReleaseInfo | None, checksum: str) -> tuple[bool, str]:
    """Whether `helm upgrade --install` must run, and why (the reason goes into Events)."""
    if info is None:
        return True, "no release installed"
    if info.status != "deployed":
        return True, f"release revision {info.revision} is {info.status}, not deployed"
    if info.checksum is None:
        return True, "release carries no manifest checksum"
    if info.checksum != checksum:
        return True, f"rendered manifests changed (checksum {info.checksum} -> {checksum})"
    return False, f"release revision {info.revision} is up to date"


@dataclass(frozen=True)
class ManifestObject:
    """One object of a release's manifest; `namespace` is empty when the manifest gives none."""

    api_version: str
    kind: str
    name: str
    namespace: str = ""


def manifest_objects(text: str, release: str = "") -> list[ManifestObject]:
    """The objects of `helm get manifest` output (items of `*List` kinds included, nameless
    documents left out). Unreadable YAML raises `HelmError`."""
    try:
        documents = list(yaml.load_all(text, Loader=JsonCompatibleLoader))
    except yaml.YAMLError as exc:
        raise HelmError("get manifest", release, f"unreadable manifest: {exc}") from None
    found: list[ManifestObject] = []
    while documents:
        doc = documents.pop(0)
        if not isinstance(doc, dict):
            continue
        kind = _str(doc, "kind")
        if kind.endswith("List") and isinstance(doc.get("items"), list):
            documents[:0] = doc["items"]
            continue
        meta = doc.get("metadata")
        if not isinstance(meta, dict):
            meta = {}
        if kind and _str(meta, "name"):
            found.append(ManifestObject(_str(doc, "apiVersion"), kind, _str(meta, "name"),
                                        _str(meta, "namespace")))
    return found


def release_record_name(release: str, revision: int) -> str:
    """Name of the Secret (or ConfigMap) in which helm stores one revision of a release."""
    return f"sh.helm.release.v1.{release}.v{revision}"


def parse_metadata(text: str) -> ReleaseInfo:
    """`helm get metadata RELEASE -o json`."""
    doc = _load(text, "get metadata", dict)
    labels = {str(k): str(v) for k, v in (doc.get("labels") or {}).items()
              if k not in HELM_SYSTEM_LABELS}
    return ReleaseInfo(
        name=_str(doc, "name"),
        namespace=_str(doc, "namespace"),
        revision=int(doc.get("revision") or 0),
        status=_str(doc, "status"),
        chart=_str(doc, "chart"),
        chart_version=_str(doc, "version"),
        app_version=_str(doc, "appVersion"),
        last_deployed=normalize_time(_str(doc, "deployedAt")),
        **_label_fields(labels),
    )


def parse_release(text: str, labels: Mapping[str, str]) -> ReleaseInfo:
    """A whole release object, as `helm upgrade -o json` prints it; `labels` are those we set."""
    doc = _load(text, "upgrade", dict)
    info = doc.get("info") or {}
    meta = (doc.get("chart") or {}).get("metadata") or {}
    return ReleaseInfo(
        name=_str(doc, "name"),
        namespace=_str(doc, "namespace"),
        revision=int(doc.get("version") or 0),
        status=_str(info, "status"),
        chart=_str(meta, "name"),
        chart_version=_str(meta, "version"),
        app_version=_str(meta, "appVersion"),
        last_deployed=normalize_time(_str(info, "last_deployed")),
        **_label_fields(labels),
    )


def _label_fields(labels: Mapping[str, str]) -> dict[str, Any]:
    """The ReleaseInfo fields our release labels carry: the checksums and ownership."""
    return {"checksum": labels.get(CHECKSUM_LABEL), "owned": CHECKSUM_LABEL in labels,
            "inputs_checksum": labels.get(INPUTS_CHECKSUM_LABEL), "labels": dict(labels)}


def parse_list(text: str, owned_names: frozenset[str]) -> list[ReleaseInfo]:
    """`helm list -o json`; it prints no labels, so ownership comes from a selector query."""
    releases = []
    for item in _load(text, "list", list):
        chart, version = split_chart(_str(item, "chart"))
        name = _str(item, "name")
        releases.append(
            ReleaseInfo(
                name=name,
                namespace=_str(item, "namespace"),
                revision=int(item.get("revision") or 0),
                status=_str(item, "status"),
                chart=chart,
                chart_version=version,
                app_version=_str(item, "app_version"),
                last_deployed=normalize_time(_str(item, "updated")),
                owned=name in owned_names,
            )
        )
    return releases


def parse_names(text: str) -> frozenset[str]:
    """Just the release names of a `helm list -o json` output."""
    return frozenset(_str(item, "name") for item in _load(text, "list", list))


def parse_history(text: str) -> list[tuple[int, str]]:
    """`helm history RELEASE -o json` as (revision, status) pairs, oldest first."""
    return sorted((int(item["revision"]), str(item["status"])) for item in _load(text, "history", list))


def parse_values_checksum(text: str) -> str | None:
    """The legacy checksum key from `helm get values RELEASE -o json` (null when no values)."""
    doc = _load(text or "null", "get values", dict) if text.strip() not in ("", "null") else {}
    value = doc.get(CHECKSUM_VALUES_KEY)
    return str(value) if value else None


def split_chart(chart: str) -> tuple[str, str]:
    """`helm list` prints `<name>-<version>`: split it (the version is semver)."""
    found = _CHART_RE.match(chart)
    return (found.group(1), found.group(2)) if found else (chart, "")


def normalize_time(text: str) -> str:
    """Any of helm's timestamp styles to RFC 3339 UTC with seconds; unknown text is kept."""
    found = _TIME_RE.search(text)
    if not text or found is None:
        return text
    zone = found.group(3) or "Z"
    stamp = datetime.strptime(f"{found.group(1)}T{found.group(2)}{zone}", "%Y-%m-%dT%H:%M:%S%z")
    return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _load(text: str, operation: str, kind: type) -> Any:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HelmError(operation, "", f"unreadable JSON output ({exc}): {text[:200]!r}") from exc
    if doc is None and kind is list:
        return []
    if not isinstance(doc, kind):
        raise HelmError(operation, "", f"expected a JSON {kind.__name__}, got: {text[:200]!r}")
    return doc


def _str(doc: Mapping[str, Any], key: str) -> str:
    value = doc.get(key)
    return "" if value is None else str(value)
