"""inputs_checksum: the render inputs' checksum changes with every input and nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from addon_operator.helm import HelmError, inputs_checksum, prepare_chart
from addon_operator.helm.client import HelmClient

from test_helm_client import SpyRunner


def _module(root: Path) -> Path:
    module = root / "010-echo"
    (module / "templates" / "sub").mkdir(parents=True)
    (module / "hooks").mkdir()
    (module / "templates" / "cm.yaml").write_text("kind: ConfigMap\n")
    (module / "templates" / "sub" / "b.yaml").write_text("kind: Secret\n")
    (module / "templates" / "_helpers.tpl").write_text("{{/* helpers */}}\n")
    (module / "hooks" / "hook.sh").write_text("#!/bin/sh\n")
    (module / "values.yaml").write_text("echo: {}\n")
    return module


@pytest.fixture
def chart(tmp_path: Path) -> tuple[Path, Path]:
    module = _module(tmp_path / "modules")
    values = tmp_path / "values.json"
    values.write_text('{"global": {}, "echo": {"a": 1}}')
    return prepare_chart(module, "echo", tmp_path / "work"), values


def _sum(chart_dir: Path, values: Path, **overrides: str) -> str:
    args = {"release": "echo", "namespace": "addons", "helm_version": "v4.1.4", **overrides}
    return inputs_checksum(chart_dir, values, **args)


def test_is_md5_hex_and_equal_for_equal_inputs(chart: tuple[Path, Path], tmp_path: Path) -> None:
    chart_dir, values = chart
    first = _sum(chart_dir, values)
    assert len(first) == 32 and int(first, 16) >= 0
    # A second, separately built copy of the same module gives the same checksum.
    other = prepare_chart(_module(tmp_path / "copy"), "echo", tmp_path / "work2")
    assert _sum(other, values) == first


@pytest.mark.parametrize("override", [{"release": "echo2"}, {"namespace": "other"},
                                      {"helm_version": "v4.1.5"}])
def test_changes_with_release_namespace_and_helm_version(chart: tuple[Path, Path],
                                                         override: dict[str, str]) -> None:
    assert _sum(*chart, **override) != _sum(*chart)


def test_changes_with_values_bytes(chart: tuple[Path, Path]) -> None:
    chart_dir, values = chart
    before = _sum(chart_dir, values)
    values.write_text('{"global": {}, "echo": {"a": 2}}')
    assert _sum(chart_dir, values) != before


@pytest.mark.parametrize("change", ["edit", "add", "remove", "rename"])
def test_changes_with_any_chart_file(chart: tuple[Path, Path], tmp_path: Path,
                                     change: str) -> None:
    chart_dir, values = chart
    templates = tmp_path / "modules" / "010-echo" / "templates"
    before = _sum(chart_dir, values)
    if change == "edit":
        (templates / "sub" / "b.yaml").write_text("kind: Secret \n")
    elif change == "add":
        (templates / "sub" / "c.yaml").write_text("")
    elif change == "remove":
        (templates / "_helpers.tpl").unlink()
    else:
        (templates / "cm.yaml").rename(templates / "cm2.yaml")
    assert _sum(chart_dir, values) != before


def test_files_left_out_of_the_chart_do_not_count(chart: tuple[Path, Path], tmp_path: Path) -> None:
    chart_dir, values = chart
    before = _sum(chart_dir, values)
    (tmp_path / "modules" / "010-echo" / "hooks" / "hook.sh").write_text("#!/bin/bash\n")
    assert _sum(chart_dir, values) == before


def test_independent_of_mtimes_and_listing_order(chart: tuple[Path, Path], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    chart_dir, values = chart
    before = _sum(chart_dir, values)
    for path in (tmp_path / "modules").rglob("*"):
        os.utime(path, (1, 1), follow_symlinks=False)
    real_scandir = os.scandir

    def reversed_scandir(path: str) -> list[os.DirEntry[str]]:
        with real_scandir(path) as entries:
            return list(entries)[::-1]

    monkeypatch.setattr(os, "scandir", reversed_scandir)
    assert _sum(chart_dir, values) == before


def test_boundaries_between_files_matter(tmp_path: Path) -> None:
    values = tmp_path / "v.json"
    values.write_text("{}")
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    (one / "a").write_text("xy")
    (one / "b").write_text("")
    (two / "a").write_text("x")
    (two / "b").write_text("y")
    assert _sum(one, values) != _sum(two, values)


def test_symlinks_are_followed_and_loops_end(tmp_path: Path) -> None:
    values = tmp_path / "v.json"
    values.write_text("{}")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "cm.yaml").write_text("kind: ConfigMap\n")
    chart_dir = tmp_path / "chart"
    (chart_dir / "templates").mkdir(parents=True)
    (chart_dir / "templates" / "linked").symlink_to(shared)
    (chart_dir / "templates" / "loop").symlink_to(chart_dir / "templates")
    (chart_dir / "templates" / "dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    before = _sum(chart_dir, values)
    (shared / "cm.yaml").write_text("kind: Secret\n")
    assert _sum(chart_dir, values) != before


def test_client_uses_its_namespace_and_helm_version(chart: tuple[Path, Path],
                                                    tmp_path: Path) -> None:
    chart_dir, values = chart
    spy = SpyRunner("v3.18.4+gd80839c")
    client = HelmClient("addons", home=tmp_path / "home", binary="/opt/helm", runner=spy,
                        base_env={})
    assert client.inputs_checksum("echo", chart_dir, values) == _sum(
        chart_dir, values, helm_version="v3.18.4")
    with pytest.raises(HelmError, match=r"helm inputs checksum echo failed: cannot read chart "
                                        r".* or values .*missing\.json"):
        client.inputs_checksum("echo", chart_dir, tmp_path / "missing.json")
