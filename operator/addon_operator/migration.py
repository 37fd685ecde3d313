"""Conversion of an upstream addon-operator ConfigMap into GlobalConfig and Module objects.

Upstream keeps all configuration in one ConfigMap whose `data` holds YAML strings: `global`,
`<moduleKey>` (a module's config values), `<moduleKey>Enabled` (`"true"`/`"false"`) and
`<moduleKey>Maintenance`. This module turns such a manifest into the objects that replace it
(docs/migration.md, What maps to what): the `GlobalConfig` named `global` first, then one `Module`
per module key, by name. It is pure — text in, objects and problems out; the `migrate` command
(`commands/migrate.py`) reads and writes the files and validates the result against the modules on
disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from addon_operator.enablement import Decision
from addon_operator.manifests import (
    API_VERSION,
    GLOBAL_CONFIG,
    GLOBAL_NAME,
    MODULE,
    ManifestProblem,
)
from addon_operator.manifests import yaml_problem as yaml_error
from addon_operator.yamlload import JsonCompatibleLoader
from addon_operator.yamlload import describe_type as kind_of
from addon_operator.naming import kebab, module_key
from addon_operator.values import GLOBAL_KEY

ENABLED_SUFFIX = "Enabled"
MAINTENANCE_SUFFIX = "Maintenance"
CONFIGMAP = "ConfigMap"
EXPORT_HINT = "kubectl -n <namespace> get configmap addon-operator -o yaml"
_MAX_NAME = 253
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass
class Conversion:
    """The objects (GlobalConfig first, then Modules by name) and what was met on the way.

    `problems` make the conversion unusable; `warnings` are dropped or doubtful content;
    `enabled_unset` names the modules whose ConfigMap had no `<moduleKey>Enabled`.
    """

    objects: list[dict[str, Any]] = field(default_factory=list)
    problems: list[ManifestProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    enabled_unset: list[str] = field(default_factory=list)


@dataclass
class _ModuleParts:
    """What the ConfigMap says about one module, collected over its keys."""

    settings: dict[str, Any] | None = None
    enabled: bool | None = None
    has_section: bool = False


def convert(text: str, source: str) -> Conversion:
    """Convert the ConfigMap manifest `text` (read from `source`, named in every problem)."""
    result = Conversion()
    configmap = _read_configmap(text, source, result)
    if configmap is None:
        return result
    ref = f"{CONFIGMAP}/{(configmap.get('metadata') or {}).get('name') or '?'}"

    def problem(path: str, message: str) -> None:
        result.problems.append(ManifestProblem(source, ref, path, message))

    data = configmap.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problem("data", f"must be a mapping of strings, got {kind_of(data)}")
        return result
    global_settings: dict[str, Any] | None = None
    modules: dict[str, _ModuleParts] = {}
    for key, value in data.items():
        path = f"data.{key}"
        if not isinstance(value, str):
            problem(path, f"must be a string (ConfigMap data holds YAML text), got {kind_of(value)} "
                          "(quote it)")
            continue
        if key == GLOBAL_KEY:
            global_settings = _section(value, None, report=lambda m: problem(path, m))
            continue
        mkey, suffix = _split_key(str(key))
        name, error = _module_name(mkey)
        if error:
            problem(path, error)
            continue
        parts = modules.setdefault(name, _ModuleParts())
        if suffix == ENABLED_SUFFIX:
            enabled = {"true": True, "false": False}.get(value.strip().lower())
            if enabled is None:
                problem(path, 'must be "true" or "false"')
            parts.enabled = enabled
        elif suffix == MAINTENANCE_SUFFIX:
            result.warnings.append(
                f"{source}: {ref}: {path}: dropped: Module has no maintenance state; "
                f"spec.suspend (stop hooks and Helm, uninstall nothing) is the nearest equivalent"
            )
        else:
            parts.has_section = True
            flag = f"{mkey}{ENABLED_SUFFIX}"
            parts.settings = _section(value, flag, report=lambda m: problem(path, m))
    if result.problems:
        return result
    result.objects.append(_object(GLOBAL_CONFIG, GLOBAL_NAME, _spec(global_settings, None)))
    for name in sorted(modules):
        parts = modules[name]
        if not parts.has_section and parts.enabled is None:
            continue  # only a Maintenance key: nothing to carry over
        if parts.enabled is None:
            result.enabled_unset.append(name)
        result.objects.append(_object(MODULE, name, _spec(parts.settings, parts.enabled)))
    return result


def pin_enabled(conversion: Conversion, decisions: Iterable[Decision]) -> list[str]:
    """Set `spec.enabled` of the modules in `enabled_unset` to what their defaults decide.

    `decisions` are the enablement decisions without `Module.spec.enabled`, global hooks or
    `enabled` scripts (the module's files only). Returns one line per pinned module.
    """
    by_name = {d.module: d for d in decisions}
    pinned: list[str] = []
    for obj in conversion.objects:
        name = obj["metadata"]["name"]
        decision = by_name.get(name)
        if obj["kind"] != MODULE or name not in conversion.enabled_unset or decision is None:
            continue
        obj["spec"] = {"enabled": decision.enabled, **obj["spec"]}
        pinned.append(f"Module/{name}: spec.enabled: {str(decision.enabled).lower()} ({decision.message})")
    return pinned


def dump(objects: Iterable[Mapping[str, Any]], header: str) -> str:
    """A multi-document YAML stream of `objects`, opened by the comment line `header`."""
    docs = [yaml.safe_dump(dict(obj), sort_keys=False, allow_unicode=True, default_flow_style=False)
            for obj in objects]
    return f"# {header}\n" + "".join(f"---\n{doc}" for doc in docs)


def _read_configmap(text: str, source: str, result: Conversion) -> dict[str, Any] | None:
    def fail(obj: str, path: str, message: str) -> None:
        result.problems.append(ManifestProblem(source, obj, path, message))

    try:
        docs = [d for d in yaml.load_all(text, Loader=JsonCompatibleLoader) if d is not None]
    except yaml.YAMLError as exc:
        fail("", *yaml_error(exc))
        return None
    if len(docs) != 1:
        fail("", "", f"expected one ConfigMap manifest, found {len(docs)} YAML documents "
                     f"(export it with `{EXPORT_HINT}`)")
        return None
    doc = docs[0]
    if not isinstance(doc, dict) or doc.get("kind") != CONFIGMAP or doc.get("apiVersion") != "v1":
        what = (f"kind {doc.get('kind')!r}, apiVersion {doc.get('apiVersion')!r}"
                if isinstance(doc, dict) else kind_of(doc))
        fail("", "", f"not a ConfigMap (apiVersion v1, kind ConfigMap): got {what} "
                     f"(export it with `{EXPORT_HINT}`)")
        return None
    return doc


def _split_key(key: str) -> tuple[str, str]:
    """`certManagerEnabled` → (`certManager`, `Enabled`); a section key has no suffix."""
    for suffix in (ENABLED_SUFFIX, MAINTENANCE_SUFFIX):
        if key.endswith(suffix):
            return key[: -len(suffix)], suffix
    return key, ""


def _module_name(key: str) -> tuple[str, str]:
    """The module name of a values key, or an error saying why the key is malformed."""
    if not key:
        return "", "no module key before the suffix"
    if key == GLOBAL_KEY:
        return "", f"{GLOBAL_KEY!r} is the global section, not a module: it cannot be enabled or disabled"
    name = kebab(key)
    back = module_key(name)
    if back != key:
        return "", (
            f"bad module key {key!r}: it must be camelCase and survive the round trip "
            f"key → module name → key ({key!r} → {name!r} → {back!r})"
        )
    if len(name) > _MAX_NAME or not set(name) <= _NAME_CHARS or name[0] == "-" or name[-1] == "-":
        return "", (
            f"module key {key!r} gives module name {name!r}, which is not a valid Kubernetes object "
            "name (lower-case letters, digits and '-')"
        )
    return name, ""


def _section(
    value: str, flag: str | None, report: Callable[[str], None]
) -> dict[str, Any] | None:
    """A data value parsed as YAML; `report(message)` is called when it is not a usable mapping.

    `flag` is the module's `<moduleKey>Enabled` key, None for the global section (which may be
    empty, while an empty module section is an error upstream too).
    """
    try:
        parsed = yaml.load(value, Loader=JsonCompatibleLoader)
    except yaml.YAMLError as exc:
        where, message = yaml_error(exc)
        report(f"{message} ({where} of the section)" if where else message)
        return None
    if parsed is None and flag is None:
        return None
    if parsed is None:
        report("is empty: a module section must be a YAML mapping of settings (write {} for none)")
    elif not isinstance(parsed, dict):
        hint = f' (to disable the module use {flag}: "false")' if parsed is False and flag else ""
        report(f"must be a YAML mapping of settings, got {kind_of(parsed)}{hint}")
    else:
        return parsed
    return None


def _spec(settings: dict[str, Any] | None, enabled: bool | None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if enabled is not None:
        spec["enabled"] = enabled
    if settings is not None:
        spec["settings"] = settings
    return spec


def _object(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": spec}
