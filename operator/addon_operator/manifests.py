"""Module and GlobalConfig manifests read from files, the way `kubectl apply -f` takes them.

The commands (`validate`, `render`, `modules`) accept files and directories of multi-document
YAML, as kept in a GitOps repository. `load` reads them and checks each object's shape (what the
API server would reject: kind, apiVersion, name, spec fields and their types); `check_settings`
then checks them against the discovered modules (unknown module names, settings failing the
module's or the global config schema). Every problem names the file, the object and the field,
printed as `FILE: Kind/name: path: message`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from addon_operator.yamlload import JsonCompatibleLoader, describe_type
from addon_operator.models import Discovery
from addon_operator.values import Schemas, SchemaError, validate_settings

GROUP = "addon-operator.io"
API_VERSION = f"{GROUP}/v1alpha1"
MODULE = "Module"
GLOBAL_CONFIG = "GlobalConfig"
GLOBAL_NAME = "global"
SPEC_FIELDS: dict[str, dict[str, type]] = {
    MODULE: {"enabled": bool, "settings": dict, "suspend": bool},
    GLOBAL_CONFIG: {"settings": dict},
}
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class ManifestProblem:
    """One problem; `obj` and `path` are empty when the file itself is the problem."""

    file: str
    obj: str
    path: str
    message: str
    order: tuple[int, int] = (0, 0)  # (file, document) position in the input, for sorting

    def __str__(self) -> str:
        return ": ".join(part for part in (self.file, self.obj, self.path, self.message) if part)


@dataclass(frozen=True)
class Manifest:
    """A well-formed Module or GlobalConfig object and where it came from."""

    file: str
    kind: str
    name: str
    spec: dict[str, Any]
    order: tuple[int, int] = (0, 0)  # (file, document) position in the input

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def settings(self) -> dict[str, Any] | None:
        return self.spec.get("settings")


@dataclass
class Manifests:
    """The objects found (one per kind and name) and the problems met reading them."""

    modules: dict[str, Manifest] = field(default_factory=dict)
    global_config: Manifest | None = None
    problems: list[ManifestProblem] = field(default_factory=list)
    count: int = 0  # documents that looked like objects, well-formed or not

    @property
    def objects(self) -> list[Manifest]:
        found = [self.global_config] if self.global_config else []
        return found + list(self.modules.values())

    def specs(self) -> dict[str, bool | None]:
        """`spec.enabled` per module name (None when unset), for enablement."""
        return {name: m.spec.get("enabled") for name, m in self.modules.items()}

    def module_settings(self, name: str) -> dict[str, Any] | None:
        manifest = self.modules.get(name)
        return manifest.settings if manifest else None

    def global_settings(self) -> dict[str, Any] | None:
        return self.global_config.settings if self.global_config else None


def load(paths: Sequence[str]) -> Manifests:
    """Read every file (directories: their *.yaml, *.yml, *.json files, recursively, sorted)."""
    found = Manifests()
    for seq, file in enumerate(_files(paths)):
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            found.problems.append(
                ManifestProblem(file, "", "", f"cannot read: {_reason(exc)}", (seq, 0))
            )
            continue
        parse(text, file, seq, found)
    return found


def parse(text: str, file: str, seq: int, into: Manifests) -> None:
    """Add the objects of one multi-document YAML text (file number `seq`) to `into`."""
    index = 0
    try:
        for index, doc in enumerate(yaml.load_all(text, Loader=JsonCompatibleLoader), start=1):
            if doc is not None:
                _add(doc, file, (seq, index), into)
    except yaml.YAMLError as exc:
        into.problems.append(
            ManifestProblem(file, f"document {index + 1}", *yaml_problem(exc), (seq, index + 1))
        )


def all_problems(manifests: Manifests, discovery: Discovery) -> list[ManifestProblem]:
    """Shape problems and `check_settings` problems together, in input order."""
    return sorted(manifests.problems + check_settings(manifests, discovery), key=lambda p: p.order)


def check_settings(manifests: Manifests, discovery: Discovery) -> list[ManifestProblem]:
    """Unknown module names, and settings against the module's (or the global) config schema."""
    problems: list[ManifestProblem] = []
    if manifests.global_config is not None:
        g = discovery.global_
        problems += _settings_problems(manifests.global_config, g.config_schema, g.values_schema, "global")
    known = ", ".join(m.name for m in discovery.modules) or "none"
    for manifest in manifests.modules.values():
        module = discovery.module(manifest.name)
        if module is None:
            problems.append(ManifestProblem(
                manifest.file, manifest.ref, "metadata.name",
                f"unknown module {manifest.name!r} (known modules: {known})", manifest.order,
            ))
            continue
        problems += _settings_problems(
            manifest, module.config_schema, module.values_schema, f"module {module.name}"
        )
    return problems


def _settings_problems(
    manifest: Manifest, config_schema: Any, values_schema: Any, owner: str
) -> list[ManifestProblem]:
    try:
        schemas = Schemas.load(config_schema, values_schema, owner=owner)
    except SchemaError as exc:
        return [ManifestProblem(
            manifest.file, manifest.ref, "spec.settings", f"cannot be checked: {exc}", manifest.order
        )]
    return [
        ManifestProblem(manifest.file, manifest.ref, f"spec.{p.path}", p.message, manifest.order)
        for p in validate_settings(manifest.settings, schemas, owner)
    ]


def _files(paths: Iterable[str]) -> list[str]:
    """The given files, and the manifest files inside the given directories."""
    files: list[str] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files += sorted(
                str(p) for p in path.rglob("*")
                if p.suffix in MANIFEST_SUFFIXES and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            files.append(given)
    return files


def _add(doc: Any, file: str, order: tuple[int, int], into: Manifests) -> None:
    """Shape checks of one document, as the API server (and the CRD schema) would make them."""
    into.count += 1
    index = order[1]
    if not isinstance(doc, dict):
        into.problems.append(ManifestProblem(
            file, f"document {index}", "",
            f"expected a Kubernetes object (a mapping), got {describe_type(doc)}", order,
        ))
        return
    kind, meta = doc.get("kind"), doc.get("metadata")
    kind = kind if isinstance(kind, str) else repr(kind)
    name = meta.get("name") if isinstance(meta, dict) else None
    ref = f"{kind if doc.get('kind') else '?'}/{_or_unknown(name)}"
    if ref == "?/?":
        ref = f"document {index}"
    problems: list[tuple[str, str]] = []
    if kind not in SPEC_FIELDS:
        problems.append(("kind", f"must be {MODULE} or {GLOBAL_CONFIG}, got {doc.get('kind')!r}"))
    if doc.get("apiVersion") != API_VERSION:
        problems.append(("apiVersion", f"must be {API_VERSION}, got {doc.get('apiVersion')!r}"))
    if not isinstance(name, str) or not name:
        problems.append(("metadata.name", "is required"))
    elif kind == GLOBAL_CONFIG and name != GLOBAL_NAME:
        problems.append(("metadata.name", f"must be {GLOBAL_NAME!r}: {GLOBAL_CONFIG} is a singleton"))
    spec = doc.get("spec") if doc.get("spec") is not None else {}
    if not isinstance(spec, dict):
        problems.append(("spec", f"must be an object, got {describe_type(spec)}"))
    elif kind in SPEC_FIELDS:
        problems += _spec_problems(spec, SPEC_FIELDS[kind])
    into.problems += [ManifestProblem(file, ref, path, message, order) for path, message in problems]
    # A name that is not a non-empty string or a spec that is not a mapping is a problem above.
    if problems or not isinstance(name, str) or not isinstance(spec, dict):
        return
    manifest = Manifest(file, kind, name, spec, order)
    first = into.global_config if kind == GLOBAL_CONFIG else into.modules.get(name)
    if first is not None:
        into.problems.append(ManifestProblem(
            file, ref, "metadata.name",
            f"duplicate object: {ref} is already defined in {first.file}, document {first.order[1]}",
            order,
        ))
    elif kind == GLOBAL_CONFIG:
        into.global_config = manifest
    else:
        into.modules[name] = manifest


def _spec_problems(spec: dict[str, Any], fields: dict[str, type]) -> list[tuple[str, str]]:
    problems = []
    for key, value in spec.items():
        expected = fields.get(key)
        if expected is None:
            problems.append((f"spec.{key}", f"unknown field (allowed: {', '.join(fields)})"))
        elif value is not None and not isinstance(value, expected):
            what = "true or false" if expected is bool else "an object"
            # The type only, never the value: spec.settings may hold secrets.
            problems.append((f"spec.{key}", f"must be {what}, got {describe_type(value)}"))
    return problems


def yaml_problem(exc: yaml.YAMLError) -> tuple[str, str]:
    """(where, message) of a YAML error: "line L, column C" and "invalid YAML: ..."."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    if isinstance(exc, yaml.MarkedYAMLError):
        message = "; ".join(part for part in (exc.context, exc.problem) if part)
    else:
        message = str(exc)
    return where, f"invalid YAML: {message or exc}"


def _or_unknown(value: Any) -> str:
    return value if isinstance(value, str) and value else "?"


def _reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
