"""The shared vocabulary of the engine: what discovery finds on disk.

Plain frozen dataclasses, no behaviour. Discovery (`discovery.py`) produces them; the values
engine, enablement, hook configuration, the commands and the runtime read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any


class ChartKind(str, Enum):
    """How a module's Helm chart is provided."""

    NONE = "none"            # hooks-only module: no Chart.yaml and no templates/
    CHART = "chart"          # the module directory has a Chart.yaml
    SYNTHETIC = "synthetic"  # templates/ without Chart.yaml: a chart is synthesised


@dataclass(frozen=True)
class ModuleDef:
    """One module directory, as discovered (nothing run yet)."""

    name: str                       # kebab-case module name, e.g. "cert-manager"
    key: str                        # camelCase values key, e.g. "certManager"
    order: int                      # NNN prefix, or the unnumbered order
    path: Path                      # the module directory (symlinks kept as found)
    modules_dir: Path               # the modules dir it was found in
    chart: ChartKind
    hooks: tuple[Path, ...] = ()    # executable hook files, sorted by path
    enabled_script: Path | None = None
    crds: tuple[Path, ...] = ()     # crds/*.yaml (filtered by prefix)
    config_schema: dict[str, Any] | None = None   # openapi/config-values.yaml as loaded
    values_schema: dict[str, Any] | None = None   # openapi/values.yaml as loaded
    # The <moduleKey> section of <modules-dir>/values.yaml, overridden by the module's values.yaml.
    static_values: dict[str, Any] = field(default_factory=dict)
    # <moduleKey>Enabled from the module's own values.yaml (docs/modules.md, Enablement: "Default").
    default_enabled: bool | None = None
    # <moduleKey>Enabled from <modules-dir>/values.yaml files (step "ModulesValues").
    modules_values_enabled: bool | None = None

    @property
    def weight(self) -> int:
        return self.order

    @property
    def has_chart(self) -> bool:
        return self.chart is not ChartKind.NONE


@dataclass(frozen=True)
class GlobalDef:
    """The global part: global hooks and global schemas and static values."""

    hooks_dir: Path | None
    hooks: tuple[Path, ...] = ()
    config_schema: dict[str, Any] | None = None
    values_schema: dict[str, Any] | None = None
    # The `global` sections of every <modules-dir>/values.yaml, merged in modules-dir order.
    static_values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Discovery:
    """Everything found on disk: modules in run order (weight, then name), the global part."""

    modules: tuple[ModuleDef, ...]
    global_: GlobalDef
    warnings: tuple[str, ...] = ()

    def module(self, name: str) -> ModuleDef | None:
        return next((m for m in self.modules if m.name == name), None)
