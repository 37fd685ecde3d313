"""Module discovery: what is on disk in the modules dirs and the global hooks dir.

Reads directories and files only — nothing is executed and nothing is validated beyond what
discovery itself needs (names, YAML syntax, `*Enabled` flags). The result is a `Discovery` (see
`models.py`) consumed by the values engine, enablement, hook configuration, the commands and the
runtime. Fatal problems raise `DiscoveryError` naming the path; everything upstream only warns
about is returned in `Discovery.warnings`, for the caller to log or print.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from addon_operator.merge import deep_merge
from addon_operator.models import ChartKind, Discovery, GlobalDef, ModuleDef
from addon_operator.naming import NamingError, check_name, module_key, parse_dir_name
from addon_operator.yamlload import JsonCompatibleLoader, describe_type

PATHS_SEPARATOR = ":"
VALUES_FILE = "values.yaml"
GLOBAL_KEY = "global"
ENABLED_SUFFIX = "Enabled"
DEFAULT_CRD_FILTER_PREFIXES = ("doc-", "_")
# Files with these extensions are never hooks (shell-operator's rule), executable or not.
HOOK_SKIPPED_SUFFIXES = frozenset({".yaml", ".json", ".md", ".txt"})
MODULE_HOOKS_EXCLUDED_DIRS = ("lib", "venv")
GLOBAL_HOOKS_EXCLUDED_DIRS = ("lib",)
CRD_SUFFIXES = frozenset({".yaml", ".yml"})
_EXECUTABLE_BITS = 0o111


class DiscoveryError(Exception):
    """A fatal problem on disk; the message names the file or directory."""


def split_dirs(value: str) -> list[Path]:
    """`:`-separated directories as paths, empty items skipped."""
    return [Path(item) for item in value.split(PATHS_SEPARATOR) if item]


def discover(
    modules_dirs: Sequence[Path],
    global_hooks_dir: Path | None,
    *,
    unnumbered_order: int = 1,
    crd_filter_prefixes: Iterable[str] = DEFAULT_CRD_FILTER_PREFIXES,
) -> Discovery:
    """Find every module in `modules_dirs` (in order) and the global hooks and schemas."""
    warnings: list[str] = []
    prefixes = tuple(prefix for prefix in crd_filter_prefixes if prefix)
    if not modules_dirs:
        warnings.append("no modules dir is configured: no modules are loaded")
    commons = [_read_common_values(_require_dir(_absolute(d), "modules dir")) for d in modules_dirs]

    found: list[ModuleDef] = []
    for common in commons:
        for dirname, path in _module_entries(common.modules_dir, warnings):
            found.append(_load_module(dirname, path, common, commons, unnumbered_order, prefixes, warnings))
    modules = sorted(_first_of_each_name(found, warnings), key=lambda m: (m.order, m.name))

    global_static: dict[str, Any] = {}
    for common in commons:
        global_static = deep_merge(global_static, _section(common.values, GLOBAL_KEY, common.file))
    global_def = _load_global(global_hooks_dir, global_static, warnings)
    return Discovery(modules=tuple(modules), global_=global_def, warnings=tuple(warnings))


def find_hook_files(
    hooks_dir: Path, excluded_dirs: Iterable[str] = ("lib",)
) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    """Hook executables under `hooks_dir`, sorted by path, and the warnings about skipped files.

    Skipped: hidden files and dirs, dirs named in `excluded_dirs` at any depth, files ending in
    .yaml/.json/.md/.txt, and non-executable files (with a warning). Symlinked files count by
    their target; symlinked dirs are not searched.
    """
    hooks: list[Path] = []
    warnings: list[str] = []
    _collect_hooks(hooks_dir, frozenset(excluded_dirs), hooks, warnings)
    return tuple(sorted(hooks, key=str)), tuple(warnings)


@dataclass(frozen=True)
class _CommonValues:
    """One modules dir and its parsed `values.yaml` (empty when absent)."""

    modules_dir: Path
    file: Path
    values: dict[str, Any]


def _read_common_values(modules_dir: Path) -> _CommonValues:
    file = modules_dir / VALUES_FILE
    return _CommonValues(modules_dir, file, _read_mapping(file) or {})


def _load_module(
    dirname: str,
    path: Path,
    common: _CommonValues,
    commons: Sequence[_CommonValues],
    unnumbered_order: int,
    crd_prefixes: tuple[str, ...],
    warnings: list[str],
) -> ModuleDef:
    try:
        order, name = parse_dir_name(dirname, unnumbered_order)
    except NamingError as exc:
        raise DiscoveryError(f"{path}: {exc}") from exc
    try:
        check_name(name, path)
    except NamingError as exc:
        raise DiscoveryError(str(exc)) from exc
    key = module_key(name)
    own_file = path / VALUES_FILE
    own_values = _read_mapping(own_file) or {}
    static_values = deep_merge(_section(common.values, key, common.file), _section(own_values, key, own_file))
    flag = key + ENABLED_SUFFIX
    modules_values_enabled: bool | None = None
    for each in commons:
        modules_values_enabled = _enabled_flag(each.values, flag, each.file, modules_values_enabled)
    hooks_dir = path / "hooks"
    hooks: tuple[Path, ...] = ()
    if hooks_dir.is_dir():
        hooks, hook_warnings = find_hook_files(hooks_dir, MODULE_HOOKS_EXCLUDED_DIRS)
        warnings.extend(hook_warnings)
    config_schema, values_schema = _openapi_schemas(path / "openapi")
    return ModuleDef(
        name=name,
        key=key,
        order=order,
        path=path,
        modules_dir=common.modules_dir,
        chart=_chart_kind(path),
        hooks=hooks,
        enabled_script=_enabled_script(path, warnings),
        crds=_crd_files(path / "crds", crd_prefixes),
        config_schema=config_schema,
        values_schema=values_schema,
        static_values=static_values,
        default_enabled=_enabled_flag(own_values, flag, own_file, None),
        modules_values_enabled=modules_values_enabled,
    )


def _module_entries(modules_dir: Path, warnings: list[str]) -> list[tuple[str, Path]]:
    """(dir name, path as found) of each subdir or symlink to a dir, in name order."""
    entries: list[tuple[str, Path]] = []
    for entry in _scan(modules_dir):
        path = Path(entry.path)
        if entry.name.startswith("."):
            # Unlike upstream (which fails the name check): `.git` in a checkout or the `..data`
            # links of a mounted ConfigMap volume must not stop the operator.
            warnings.append(f"{path}: hidden entry; ignored while searching for modules")
            continue
        if entry.is_dir(follow_symlinks=False):
            entries.append((entry.name, path))
            continue
        if entry.is_symlink():
            mode = _stat_target(path, warnings, "symlink target does not exist; not a module")
            if mode is None:
                continue
            if stat.S_ISDIR(mode):
                entries.append((entry.name, path))
                continue
        if entry.name != VALUES_FILE:
            warnings.append(f"{path}: not a directory; ignored while searching for modules")
    return entries


def _first_of_each_name(modules: list[ModuleDef], warnings: list[str]) -> list[ModuleDef]:
    kept: dict[str, ModuleDef] = {}
    for module in modules:
        first = kept.get(module.name)
        if first is None:
            kept[module.name] = module
        else:
            warnings.append(
                f"{module.path}: module {module.name!r} is skipped: "
                f"a module with that name was already found at {first.path}"
            )
    return list(kept.values())


def _load_global(
    global_hooks_dir: Path | None, static_values: dict[str, Any], warnings: list[str]
) -> GlobalDef:
    if global_hooks_dir is None:
        return GlobalDef(hooks_dir=None, static_values=static_values)
    root = _require_dir(_absolute(global_hooks_dir), "global hooks dir")
    hooks_dir = root / "hooks" if (root / "hooks").is_dir() else root
    hooks, hook_warnings = find_hook_files(hooks_dir, GLOBAL_HOOKS_EXCLUDED_DIRS)
    warnings.extend(hook_warnings)
    config_schema, values_schema = _openapi_schemas(root / "openapi")
    return GlobalDef(
        hooks_dir=hooks_dir,
        hooks=hooks,
        config_schema=config_schema,
        values_schema=values_schema,
        static_values=static_values,
    )


def _collect_hooks(directory: Path, excluded: frozenset[str], hooks: list[Path], warnings: list[str]) -> None:
    for entry in _scan(directory):
        path = Path(entry.path)
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            if entry.name not in excluded:
                _collect_hooks(path, excluded, hooks, warnings)
            continue
        if path.suffix in HOOK_SKIPPED_SUFFIXES:
            continue
        mode = _stat_target(path, warnings, "symlink target does not exist; not a hook")
        if mode is None:
            continue
        if stat.S_ISDIR(mode):
            warnings.append(f"{path}: symlinked directories are not searched for hooks; skipped")
        elif not mode & _EXECUTABLE_BITS:
            warnings.append(f"{path}: not executable, skipped (chmod +x is required to run this hook)")
        else:
            hooks.append(path)


def _chart_kind(path: Path) -> ChartKind:
    if (path / "Chart.yaml").exists():
        return ChartKind.CHART
    if (path / "templates").exists():
        return ChartKind.SYNTHETIC
    return ChartKind.NONE


def _enabled_script(path: Path, warnings: list[str]) -> Path | None:
    script = path / "enabled"
    mode = _stat_target(script, warnings, "symlink target does not exist; no enabled script")
    if mode is None:
        return None
    if stat.S_ISREG(mode) and mode & _EXECUTABLE_BITS:
        return script
    warnings.append(
        f"{script}: enabled script is not an executable file; treated as absent (chmod +x is required)"
    )
    return None


def _crd_files(crds_dir: Path, prefixes: tuple[str, ...]) -> tuple[Path, ...]:
    """CRD manifests under crds/ (recursively, in walk order) minus names starting with a prefix."""
    if not crds_dir.is_dir():
        return ()
    files: list[Path] = []
    for entry in _scan(crds_dir):
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            files.extend(_crd_files(path, prefixes))
        elif entry.is_file() and path.suffix in CRD_SUFFIXES and not entry.name.startswith(prefixes):
            files.append(path)
    return tuple(files)


def _openapi_schemas(openapi_dir: Path) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    return _read_mapping(openapi_dir / "config-values.yaml"), _read_mapping(openapi_dir / VALUES_FILE)


def _section(values: dict[str, Any], key: str, source: Path) -> dict[str, Any]:
    """`values[key]` as a mapping; absent or null → {}."""
    section = values.get(key)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise DiscoveryError(f"{source}: key {key!r} must be a mapping, got {describe_type(section)}")
    return section


def _enabled_flag(values: dict[str, Any], key: str, source: Path, current: bool | None) -> bool | None:
    """`values[key]` as a bool (YAML bool or "true"/"false" in any case); absent → `current`."""
    if key not in values:
        return current
    value = values[key]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise DiscoveryError(
        f"{source}: key {key!r} must be true or false "
        f"(a boolean or the string \"true\"/\"false\"), got {value!r}"
    )


def _read_mapping(path: Path) -> dict[str, Any] | None:
    """A YAML file whose top level is a mapping; None when the file is absent or empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise DiscoveryError(f"{path}: cannot read: {exc}") from exc
    try:
        data = yaml.load(text, Loader=JsonCompatibleLoader)
    except yaml.YAMLError as exc:
        raise DiscoveryError(f"{path}: invalid YAML{_yaml_position(exc)}: {_yaml_problem(exc)}") from exc
    if data is None:
        return None
    if not isinstance(data, dict):
        raise DiscoveryError(f"{path}: the top level must be a mapping, got {describe_type(data)}")
    return data


def _yaml_position(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if not isinstance(exc, yaml.MarkedYAMLError):
        return str(exc)
    context = exc.context or ""
    if context and exc.context_mark is not None:
        context += f" started at line {exc.context_mark.line + 1}"
    return "; ".join(part for part in (context, exc.problem) if part) or str(exc)


def _absolute(path: Path | str) -> Path:
    """An absolute, lexically normalised path (hooks later run with other working dirs)."""
    return Path(os.path.abspath(path))


def _require_dir(path: Path, what: str) -> Path:
    if not path.exists():
        raise DiscoveryError(f"{what} {path} does not exist")
    if not path.is_dir():
        raise DiscoveryError(f"{what} {path} is not a directory")
    return path


def _scan(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError as exc:
        raise DiscoveryError(f"{directory}: cannot list directory: {exc.strerror}") from exc


def _stat_target(path: Path, warnings: list[str], missing_warning: str) -> int | None:
    """The mode of what `path` points to; None when it does not exist (a broken symlink warns)."""
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            warnings.append(f"{path}: {missing_warning}")
        return None
    except OSError as exc:
        raise DiscoveryError(f"{path}: cannot resolve: {exc.strerror}") from exc
