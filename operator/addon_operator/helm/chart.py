"""Turning a module directory into a Helm chart directory.

A module with a `Chart.yaml` is a chart as it is. A module with `templates/` but no `Chart.yaml`
gets a synthetic chart, as upstream builds one (docs/modules.md, "Chart, synthetic chart, or hooks
only"): `Chart.yaml` with `name: <module>` and `version: 0.2.0`, plus everything in the module
directory except the `crds`, `docs`, `hooks`, `images` and `lib` directories. The runtime and the
`render` command call `prepare_chart` before every render/upgrade; entries are symlinked, so edits
to the module are seen without rebuilding.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from .errors import HelmError

SYNTHETIC_CHART_VERSION = "0.2.0"
EXCLUDED_DIRS = frozenset({"crds", "docs", "hooks", "images", "lib"})


def is_helm_module(module_path: Path) -> bool:
    """A module is deployed with Helm when it has `Chart.yaml` or a `templates/` directory."""
    return (module_path / "Chart.yaml").is_file() or (module_path / "templates").is_dir()


def prepare_chart(module_path: Path, module_name: str, workdir: Path) -> Path:
    """The chart directory for `module_path`: itself, or a synthetic chart under `workdir`."""
    if (module_path / "Chart.yaml").is_file():
        return module_path
    if not (module_path / "templates").is_dir():
        raise HelmError(
            "chart", module_name, f"{module_path} has neither Chart.yaml nor templates/: not a helm module"
        )
    chart_dir = workdir / module_name
    if chart_dir.is_symlink() or chart_dir.is_file():
        chart_dir.unlink()
    elif chart_dir.exists():
        shutil.rmtree(chart_dir)
    chart_dir.mkdir(parents=True)
    source = module_path.resolve()
    for entry in sorted(source.iterdir()):
        if entry.is_dir() and entry.name in EXCLUDED_DIRS:
            continue
        (chart_dir / entry.name).symlink_to(entry)
    chart_meta = {"apiVersion": "v2", "name": module_name, "version": SYNTHETIC_CHART_VERSION}
    (chart_dir / "Chart.yaml").write_text(yaml.safe_dump(chart_meta, sort_keys=False))
    return chart_dir
