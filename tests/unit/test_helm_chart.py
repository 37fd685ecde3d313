"""prepare_chart: modules with Chart.yaml are used as they are, others get a synthetic chart."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from addon_operator.helm import HelmError, is_helm_module, prepare_chart


def _module(tmp_path: Path, *, chart_yaml: bool) -> Path:
    module = tmp_path / "modules" / "010-echo-server"
    for sub in ("templates", "hooks", "crds", "docs", "images", "lib", "openapi"):
        (module / sub).mkdir(parents=True)
    (module / "templates" / "cm.yaml").write_text("kind: ConfigMap\n")
    (module / "values.yaml").write_text("echoServer: {}\n")
    (module / "hooks" / "hook.sh").write_text("#!/bin/sh\n")
    if chart_yaml:
        (module / "Chart.yaml").write_text("apiVersion: v2\nname: other\nversion: 1.0.0\n")
    return module


def test_module_with_chart_yaml_is_its_own_chart(tmp_path: Path) -> None:
    module = _module(tmp_path, chart_yaml=True)
    assert prepare_chart(module, "echo-server", tmp_path / "work") == module
    assert not (tmp_path / "work").exists()


def test_synthetic_chart_links_everything_but_excluded_dirs(tmp_path: Path) -> None:
    module = _module(tmp_path, chart_yaml=False)
    chart = prepare_chart(module, "echo-server", tmp_path / "work")
    assert chart == tmp_path / "work" / "echo-server"
    assert sorted(p.name for p in chart.iterdir()) == ["Chart.yaml", "openapi", "templates", "values.yaml"]
    assert yaml.safe_load((chart / "Chart.yaml").read_text()) == {
        "apiVersion": "v2", "name": "echo-server", "version": "0.2.0"}
    assert (chart / "templates" / "cm.yaml").read_text() == "kind: ConfigMap\n"


def test_synthetic_chart_is_rebuilt_and_follows_module_edits(tmp_path: Path) -> None:
    module = _module(tmp_path, chart_yaml=False)
    work = tmp_path / "work"
    prepare_chart(module, "echo-server", work)
    (module / "values.yaml").unlink()
    (module / "templates" / "cm.yaml").write_text("kind: Secret\n")
    chart = prepare_chart(module, "echo-server", work)
    assert not (chart / "values.yaml").exists()
    assert (chart / "templates" / "cm.yaml").read_text() == "kind: Secret\n"


def test_hooks_only_module_is_not_a_chart(tmp_path: Path) -> None:
    module = tmp_path / "hooks-only"
    (module / "hooks").mkdir(parents=True)
    assert not is_helm_module(module)
    assert is_helm_module(_module(tmp_path, chart_yaml=False))
    with pytest.raises(HelmError, match="neither Chart.yaml nor templates/"):
        prepare_chart(module, "hooks-only", tmp_path / "work")
