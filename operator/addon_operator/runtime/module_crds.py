"""A module's `crds/` applied before its first run (as upstream's `ModuleEnsureCRDs` task does;
docs/modules.md, "`crds/`").

`ModuleRunner` calls `ModuleCrds.ensure(module)` at the start of the first run after the
operator started or the module was enabled, before `onStartup` and Helm, so the module's hooks
and chart (which Helm installs with `--skip-crds`) can use the custom resources at once.
Discovery already left out the files whose names start with a filter prefix. Every file is
read and checked before anything is applied, so a broken file applies nothing; then each CRD is
server-side applied with the operator's field manager and the configured extra labels, which
also updates a CRD whose file changed since the last start. CRDs are never deleted (as
upstream): other objects in the cluster may still be custom resources of theirs.
A bad file or a refused CRD fails the run (`RunFailed`, retried with backoff) naming the file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import yaml

from addon_operator.kube import KubeError, Resource
from addon_operator.kube.resources import CRDS
from addon_operator.logs import bind
from addon_operator.models import ModuleDef
from addon_operator.yamlload import JsonCompatibleLoader, describe_type

from .errors import RunFailed

log = logging.getLogger(__name__)

CRD_API_VERSION = "apiextensions.k8s.io/v1"
CRD_KIND = "CustomResourceDefinition"
Object = dict[str, Any]


class CrdFileError(ValueError):
    """A `crds/` file that is not a list of CRDs; the message names the file and document."""


class CrdApi(Protocol):
    """What applying CRDs needs from `kube.KubeClient`."""

    def apply(self, resource: Resource, obj: Object, *, field_manager: str = ...,
              force: bool = ...) -> Object: ...


def load_crds(path: Path, labels: Mapping[str, str], *, shown: str | None = None
              ) -> list[Object]:
    """The CRDs of one multi-document YAML file, with `labels` added (they win over the
    file's own); empty documents are skipped. `shown` is how messages name the file."""
    shown = shown or str(path)
    try:
        documents = list(yaml.load_all(path.read_text(), Loader=JsonCompatibleLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CrdFileError(f"{shown}: cannot be read as YAML: {exc}") from None
    crds = []
    for number, document in enumerate(documents, 1):
        if document is None:
            continue
        where = f"{shown}: document {number}"
        if not isinstance(document, dict):
            raise CrdFileError(f"{where}: expected a {CRD_KIND} object, got "
                               f"{describe_type(document)}")
        found = f"{document.get('apiVersion')} {document.get('kind')}"
        if (document.get("apiVersion"), document.get("kind")) != (CRD_API_VERSION, CRD_KIND):
            raise CrdFileError(f"{where}: only {CRD_API_VERSION} {CRD_KIND} objects belong in "
                               f"crds/, found {found}")
        metadata = document.get("metadata")
        if not isinstance(metadata, dict) or not metadata.get("name") \
                or not isinstance(metadata["name"], str):
            raise CrdFileError(f"{where}: metadata.name is missing")
        own = metadata.get("labels") or {}
        if not isinstance(own, dict):
            raise CrdFileError(f"{where}: metadata.labels is {describe_type(own)}, "
                               "not an object")
        crds.append({**document, "metadata": {**metadata, "labels": {**own, **labels}}})
    return crds


class ModuleCrds:
    """Applies modules' CRDs through the API with `labels` added."""

    def __init__(self, kube: CrdApi, labels: Mapping[str, str]) -> None:
        self._kube = kube
        self._labels = dict(labels)

    def ensure(self, module: ModuleDef) -> list[str]:
        """Apply every CRD of `module`'s `crds/` files; their names, in file order."""
        loaded: list[tuple[str, Object]] = []
        for path in module.crds:
            shown = _relative(path, module.path)
            try:
                loaded += [(shown, crd) for crd in load_crds(path, self._labels, shown=shown)]
            except CrdFileError as exc:
                raise RunFailed("CRDsFailed", f"module {module.name}: {exc}") from None
        for shown, crd in loaded:
            try:
                self._kube.apply(CRDS, crd)
            except KubeError as exc:
                raise RunFailed("CRDsFailed", f"module {module.name}: {shown}: "
                                f"{CRD_KIND} {crd['metadata']['name']} was not applied: "
                                f"{exc}") from None
        names = [crd["metadata"]["name"] for _, crd in loaded]
        if names:
            bind(log, module=module.name).info("applied CRDs: %s", ", ".join(names))
        return names


def _relative(path: Path, module_dir: Path) -> str:
    """`crds/x.yaml` for a file of the module directory, else the path as given."""
    try:
        return str(path.relative_to(module_dir))
    except ValueError:
        return str(path)
