"""Module discovery on real trees (tests/unit/testdata/discovery) and on trees built in tmp dirs
for what git cannot hold (symlinks); also the deep-merge rule of static values. Which dirs are
searched is test_settings_dirs.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from addon_operator.discovery import DiscoveryError, discover, find_hook_files, split_dirs
from addon_operator.merge import deep_merge
from addon_operator.models import ChartKind, Discovery, ModuleDef

DATA = Path(__file__).parent / "testdata" / "discovery"
FULL = DATA / "full"
HOOK = "#!/bin/sh\n"


def full() -> Discovery:
    return discover([FULL / "modules", FULL / "extra-modules"], FULL / "global-hooks")


def module(found: Discovery, name: str) -> ModuleDef:
    result = found.module(name)
    assert result is not None, f"module {name!r} not discovered"
    return result


def rel(paths: tuple[Path, ...], base: Path) -> list[str]:
    return [str(path.relative_to(base)) for path in paths]


def make_module(modules_dir: Path, dirname: str) -> Path:
    path = modules_dir / dirname
    path.mkdir(parents=True)
    return path


# --- ordering, weights, chart kinds ---------------------------------------------------------

def test_run_order_is_order_then_name() -> None:
    found = discover([DATA / "ordering" / "modules"], None, unnumbered_order=5)
    assert [(m.order, m.name) for m in found.modules] == [
        (2, "beta"),
        (3, "delta"),       # 0003- → 3
        (5, "gamma"),       # unnumbered
        (5, "huge"),        # 99999999999- does not fit 31 bits → unnumbered
        (10, "alpha"),      # equal weights: by name
        (10, "zeta"),
    ]
    assert module(found, "alpha").weight == 10


def test_unnumbered_order_defaults_to_one() -> None:
    found = discover([DATA / "ordering" / "modules"], None)
    assert [m.name for m in found.modules][:3] == ["gamma", "huge", "beta"]
    assert module(found, "gamma").order == 1


def test_chart_kinds() -> None:
    found = discover([DATA / "ordering" / "modules"], None)
    assert module(found, "alpha").chart is ChartKind.CHART
    assert module(found, "zeta").chart is ChartKind.SYNTHETIC
    assert module(found, "beta").chart is ChartKind.NONE
    assert not module(found, "beta").has_chart


def test_files_in_modules_dir_are_ignored_with_a_warning_except_values_yaml() -> None:
    modules_dir = DATA / "ordering" / "modules"
    found = discover([modules_dir], None)
    assert found.warnings == (f"{modules_dir / 'notes.txt'}: not a directory; ignored while searching for modules",)


def test_module_identity_fields() -> None:
    cert = module(full(), "cert-manager")
    assert cert.key == "certManager"
    assert cert.path == FULL / "modules" / "001-cert-manager"
    assert cert.modules_dir == FULL / "modules"


# --- naming errors --------------------------------------------------------------------------

def test_bad_module_name_is_fatal_and_names_the_dir() -> None:
    path = DATA / "bad-name" / "modules" / "001-my_module"
    with pytest.raises(DiscoveryError) as caught:
        discover([DATA / "bad-name" / "modules"], None)
    assert str(caught.value) == (
        f"module name 'my_module' (dir {path}) must be kebab-case and restorable "
        "from its camelCase values key 'myModule' → 'my-module'"
    )


def test_dir_name_without_a_name_part_is_rejected(tmp_path: Path) -> None:
    make_module(tmp_path, "001-")
    with pytest.raises(DiscoveryError, match=r"^module name '001-' \(dir .*/001-\) .* key '001' → '001'$"):
        discover([tmp_path], None)


# --- symlinks -------------------------------------------------------------------------------

def test_symlink_to_a_dir_is_a_module_and_keeps_its_found_path(tmp_path: Path) -> None:
    elsewhere = make_module(tmp_path, "elsewhere/real-module")
    (elsewhere / "Chart.yaml").write_text("name: x\n")
    modules_dir = tmp_path / "modules"
    modules_dir.mkdir()
    (modules_dir / "020-linked").symlink_to(elsewhere, target_is_directory=True)
    found = discover([modules_dir], None)
    linked = module(found, "linked")
    assert (linked.order, linked.path, linked.chart) == (20, modules_dir / "020-linked", ChartKind.CHART)
    assert found.warnings == ()


def test_broken_symlink_and_symlink_to_file_are_skipped_with_warnings(tmp_path: Path) -> None:
    (tmp_path / "broken").symlink_to(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "to-file").symlink_to(tmp_path / "file.txt")
    make_module(tmp_path, "ok")
    found = discover([tmp_path], None)
    assert [m.name for m in found.modules] == ["ok"]
    assert found.warnings == (
        f"{tmp_path / 'broken'}: symlink target does not exist; not a module",
        f"{tmp_path / 'file.txt'}: not a directory; ignored while searching for modules",
        f"{tmp_path / 'to-file'}: not a directory; ignored while searching for modules",
    )


def test_symlink_loop_is_fatal(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(DiscoveryError, match=rf"^{tmp_path / 'loop'}: cannot resolve"):
        discover([tmp_path], None)


# --- duplicates -----------------------------------------------------------------------------

def test_duplicate_names_across_dirs_first_wins_with_warning() -> None:
    found = full()
    assert [m.name for m in found.modules] == ["cert-manager", "extra", "hooks-only"]
    cert = module(found, "cert-manager")
    assert cert.order == 1 and cert.chart is ChartKind.CHART and cert.modules_dir == FULL / "modules"
    assert (
        f"{FULL / 'extra-modules' / '005-cert-manager'}: module 'cert-manager' is skipped: "
        f"a module with that name was already found at {FULL / 'modules' / '001-cert-manager'}"
    ) in found.warnings


def test_duplicate_names_within_one_dir_first_by_name_wins(tmp_path: Path) -> None:
    make_module(tmp_path, "002-foo")
    make_module(tmp_path, "001-foo")
    found = discover([tmp_path], None)
    assert [(m.order, m.name) for m in found.modules] == [(1, "foo")]
    assert len(found.warnings) == 1 and "002-foo: module 'foo' is skipped" in found.warnings[0]


# --- hooks ----------------------------------------------------------------------------------

def test_module_hook_file_rules() -> None:
    cert = module(full(), "cert-manager")
    assert rel(cert.hooks, cert.path) == [
        "hooks/010-startup.sh",
        "hooks/https/copy_cert.py",    # recursive
        "hooks/no-extension-hook",
        "hooks/other.yml",             # .yml is not in the skip list (only .yaml/.json/.md/.txt)
    ]
    # Skipped silently: .hidden.sh, .hidden-dir/, lib/ and https/lib/, venv/, config.yaml,
    # data.json, README.md, list.txt (all executable); skipped with a warning: not-executable.sh.


def test_non_executable_hook_warns() -> None:
    hooks_dir = FULL / "modules" / "001-cert-manager" / "hooks"
    _, warnings = find_hook_files(hooks_dir, ("lib", "venv"))
    assert warnings == (
        f"{hooks_dir / 'not-executable.sh'}: not executable, skipped (chmod +x is required to run this hook)",
    )


def test_excluded_dirs_are_a_parameter() -> None:
    hooks_dir = FULL / "modules" / "001-cert-manager" / "hooks"
    hooks, _ = find_hook_files(hooks_dir, ("lib",))
    assert "venv/bin/python3" in rel(hooks, hooks_dir)
    hooks, _ = find_hook_files(hooks_dir, ())
    assert {"lib/common.sh", "https/lib/helper.sh"} <= set(rel(hooks, hooks_dir))


def test_hook_symlinks(tmp_path: Path) -> None:
    hooks_dir = tmp_path / "hooks"
    (hooks_dir / "real").mkdir(parents=True)
    target = tmp_path / "outside.sh"
    target.write_text(HOOK)
    target.chmod(0o755)
    plain = tmp_path / "plain.sh"
    plain.write_text(HOOK)
    (hooks_dir / "linked.sh").symlink_to(target)           # counts by its executable target
    (hooks_dir / "linked-plain.sh").symlink_to(plain)      # target not executable
    (hooks_dir / "broken.sh").symlink_to(tmp_path / "missing")
    (hooks_dir / "dir-link").symlink_to(hooks_dir / "real", target_is_directory=True)
    (hooks_dir / "real" / "inner.sh").write_text(HOOK)
    (hooks_dir / "real" / "inner.sh").chmod(0o755)
    hooks, warnings = find_hook_files(hooks_dir)
    assert rel(hooks, hooks_dir) == ["linked.sh", "real/inner.sh"]
    assert warnings == (
        f"{hooks_dir / 'broken.sh'}: symlink target does not exist; not a hook",
        f"{hooks_dir / 'dir-link'}: symlinked directories are not searched for hooks; skipped",
        f"{hooks_dir / 'linked-plain.sh'}: not executable, skipped (chmod +x is required to run this hook)",
    )


def test_module_without_hooks_dir_has_no_hooks() -> None:
    assert module(full(), "extra").hooks == ()


# --- enabled script -------------------------------------------------------------------------

def test_executable_enabled_script_is_found() -> None:
    cert = module(full(), "cert-manager")
    assert cert.enabled_script == cert.path / "enabled"


def test_non_executable_enabled_script_is_absent_with_warning() -> None:
    found = full()
    hooks_only = module(found, "hooks-only")
    assert hooks_only.enabled_script is None
    assert (
        f"{hooks_only.path / 'enabled'}: enabled script is not an executable file; treated as absent "
        "(chmod +x is required)"
    ) in found.warnings


def test_no_enabled_script() -> None:
    assert module(full(), "extra").enabled_script is None


# --- crds -----------------------------------------------------------------------------------

def test_crds_filtered_by_default_prefixes() -> None:
    cert = module(full(), "cert-manager")
    assert rel(cert.crds, cert.path) == ["crds/certificates.yaml", "crds/extra/orders.yaml", "crds/issuers.yml"]


def test_crd_filter_prefixes_are_configurable_and_empty_prefixes_ignored() -> None:
    found = discover([FULL / "modules"], None, crd_filter_prefixes=("cert", ""))
    cert = module(found, "cert-manager")
    assert rel(cert.crds, cert.path) == [
        "crds/_draft.yaml",
        "crds/doc-certificates.yaml",
        "crds/extra/orders.yaml",
        "crds/issuers.yml",
    ]


# --- openapi --------------------------------------------------------------------------------

def test_openapi_schemas_are_loaded() -> None:
    cert = module(full(), "cert-manager")
    assert cert.config_schema == {"type": "object", "properties": {"replicas": {"type": "integer", "default": 2}}}
    assert cert.values_schema is not None
    assert cert.values_schema["x-extend"] == {"schema": "config-values.yaml"}


def test_absent_openapi_schemas_are_none() -> None:
    extra = module(full(), "extra")
    assert (extra.config_schema, extra.values_schema) == (None, None)


def test_empty_openapi_file_is_none(tmp_path: Path) -> None:
    openapi = make_module(tmp_path, "foo") / "openapi"
    openapi.mkdir()
    (openapi / "config-values.yaml").write_text("# nothing yet\n")
    assert module(discover([tmp_path], None), "foo").config_schema is None


# --- static values and *Enabled flags -------------------------------------------------------

def test_static_values_module_file_overrides_common_section_lists_replaced() -> None:
    cert = module(full(), "cert-manager")
    assert cert.static_values == {
        "replicas": 1,                                                  # common values.yaml
        "image": {"repository": "quay.io/cert-manager", "tag": "2.0"},  # merged, module wins
        "args": ["--c"],                                                # list replaced
    }


def test_static_values_come_only_from_the_modules_own_parent_dir() -> None:
    # extra-modules/values.yaml has `certManager: {replicas: 99}`, but cert-manager lives in modules/.
    assert module(full(), "cert-manager").static_values["replicas"] == 1
    assert module(full(), "extra").static_values == {}
    assert module(full(), "hooks-only").static_values == {"fromModule": True}


def test_modules_values_enabled_later_dirs_override_and_strings_accepted() -> None:
    found = full()
    assert module(found, "cert-manager").modules_values_enabled is False   # true, then false
    assert module(found, "hooks-only").modules_values_enabled is False     # "False"
    assert module(found, "extra").modules_values_enabled is True


def test_default_enabled_from_the_modules_own_values_yaml() -> None:
    found = full()
    assert module(found, "cert-manager").default_enabled is True   # "TRUE"
    assert module(found, "hooks-only").default_enabled is False
    assert module(found, "extra").default_enabled is None


def test_enabled_flag_unset_everywhere_is_none() -> None:
    found = discover([DATA / "ordering" / "modules"], None)
    assert all(m.modules_values_enabled is None and m.default_enabled is None for m in found.modules)


def test_global_static_values_merged_in_dir_order_and_dates_kept_as_strings() -> None:
    assert full().global_.static_values == {
        "clusterName": "demo",
        "installedAt": "2024-01-02",
        "nested": {"keep": 1, "list": [3], "added": True},
    }


def test_invalid_enabled_flag_is_fatal() -> None:
    path = DATA / "bad-enabled-flag" / "modules" / "values.yaml"
    with pytest.raises(DiscoveryError) as caught:
        discover([path.parent], None)
    assert str(caught.value) == (
        f"{path}: key 'fooEnabled' must be true or false "
        "(a boolean or the string \"true\"/\"false\"), got 'yes please'"
    )


def test_invalid_enabled_flag_in_module_values_is_fatal(tmp_path: Path) -> None:
    (make_module(tmp_path, "foo") / "values.yaml").write_text("fooEnabled: null\n")
    with pytest.raises(DiscoveryError, match=r"foo/values.yaml: key 'fooEnabled' must be true or false.*got None"):
        discover([tmp_path], None)


def test_module_section_must_be_a_mapping() -> None:
    path = DATA / "bad-section" / "modules" / "foo" / "values.yaml"
    with pytest.raises(DiscoveryError, match=rf"^{path}: key 'foo' must be a mapping, got a list$"):
        discover([DATA / "bad-section" / "modules"], None)


def test_null_module_section_is_empty(tmp_path: Path) -> None:
    (make_module(tmp_path, "foo") / "values.yaml").write_text("foo:\n")
    assert module(discover([tmp_path], None), "foo").static_values == {}


# --- YAML errors ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("tree", "file", "where"),
    [
        ("bad-common-yaml", "values.yaml", "line 3, column 2"),
        ("bad-module-yaml", "foo/values.yaml", "line 3, column 3"),
        ("bad-openapi", "foo/openapi/config-values.yaml", "line 3, column 1"),
    ],
)
def test_invalid_yaml_names_file_and_line(tree: str, file: str, where: str) -> None:
    modules_dir = DATA / tree / "modules"
    with pytest.raises(DiscoveryError) as caught:
        discover([modules_dir], None)
    assert str(caught.value).startswith(f"{modules_dir / file}: invalid YAML at {where}: ")


def test_yaml_error_message_includes_the_context_line() -> None:
    with pytest.raises(DiscoveryError, match=r"while parsing a flow sequence started at line 2; expected ','"):
        discover([DATA / "bad-openapi" / "modules"], None)


def test_openapi_top_level_must_be_a_mapping() -> None:
    path = DATA / "bad-openapi-list" / "modules" / "foo" / "openapi" / "values.yaml"
    with pytest.raises(DiscoveryError, match=rf"^{path}: the top level must be a mapping, got a list$"):
        discover([DATA / "bad-openapi-list" / "modules"], None)


def test_non_utf8_values_file_is_fatal(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_bytes(b"global: \xff\n")
    with pytest.raises(DiscoveryError, match=rf"^{tmp_path / 'values.yaml'}: cannot read"):
        discover([tmp_path], None)


# --- modules dirs ---------------------------------------------------------------------------

def test_missing_modules_dir_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match=rf"^modules dir {tmp_path / 'nope'} does not exist$"):
        discover([tmp_path / "nope"], None)


def test_modules_dir_that_is_a_file_is_fatal(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(DiscoveryError, match="is not a directory"):
        discover([tmp_path / "file"], None)


def test_no_modules_dirs_warns_and_finds_nothing() -> None:
    found = discover([], None)
    assert found.modules == ()
    assert found.warnings == ("no modules dir is configured: no modules are loaded",)


def test_relative_modules_dir_becomes_absolute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA / "ordering")
    found = discover([Path("modules")], None)
    assert module(found, "alpha").path == DATA / "ordering" / "modules" / "010-alpha"


def test_split_dirs_skips_empty_items() -> None:
    assert split_dirs("a::/b/c:") == [Path("a"), Path("/b/c")]
    assert split_dirs("") == []


# --- global hooks dir -----------------------------------------------------------------------

def test_global_hooks_from_hooks_subdir() -> None:
    found = full()
    hooks_dir = FULL / "global-hooks" / "hooks"
    assert found.global_.hooks_dir == hooks_dir
    # lib/ is skipped; venv/ is excluded for module hooks only; not-a-hook.sh is outside hooks/.
    assert rel(found.global_.hooks, hooks_dir) == ["001-startup.sh", "sub/002-before-all.py", "venv/bin/activate-hook"]
    assert found.global_.config_schema == {"type": "object", "properties": {"clusterName": {"type": "string"}}}
    assert found.global_.values_schema == {"type": "object", "properties": {"internal": {"type": "object"}}}


def test_global_hooks_dir_itself_when_no_hooks_subdir() -> None:
    root = DATA / "flat-global-hooks"
    found = discover([], root)
    assert found.global_.hooks_dir == root
    assert rel(found.global_.hooks, root) == ["hook.sh"]   # openapi/*.yaml and README.md skipped
    assert found.global_.config_schema == {"type": "object"}
    assert found.global_.values_schema is None


def test_global_hooks_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match=rf"^global hooks dir {tmp_path / 'gh'} does not exist$"):
        discover([], tmp_path / "gh")


def test_no_global_hooks_dir() -> None:
    found = discover([FULL / "modules"], None)
    assert (found.global_.hooks_dir, found.global_.hooks) == (None, ())
    assert found.global_.static_values["clusterName"] == "demo"


# --- deep merge -----------------------------------------------------------------------------

def test_deep_merge_rules_and_no_aliasing() -> None:
    base = {"a": {"x": 1, "list": [1, 2], "keep": {"deep": True}}, "b": 1, "c": {"d": 1}}
    override = {"a": {"x": 2, "list": [3]}, "b": {"now": "map"}, "c": None, "new": [1]}
    merged = deep_merge(base, override)
    assert merged == {
        "a": {"x": 2, "list": [3], "keep": {"deep": True}},
        "b": {"now": "map"},
        "c": None,
        "new": [1],
    }
    merged["a"]["keep"]["deep"] = False
    merged["new"].append(2)
    assert base["a"]["keep"] == {"deep": True}
    assert override["new"] == [1]


# --- hidden entries -------------------------------------------------------------------------

def test_hidden_entries_in_a_modules_dir_are_skipped_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "001-real").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "..data").symlink_to(tmp_path / "001-real")
    found = discover([tmp_path], None)
    assert [m.name for m in found.modules] == ["real"]
    assert any(".git: hidden entry; ignored" in w for w in found.warnings)
    assert any("..data: hidden entry; ignored" in w for w in found.warnings)
