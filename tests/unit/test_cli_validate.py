"""`addon-operator validate`: exit codes and the exact problem lines, on the example modules."""

from __future__ import annotations

from pathlib import Path

from test_cli_support import BROKEN, ROOT, VALID, run_cli

B = "tests/unit/testdata/manifests/broken"


def test_valid_manifests_pass() -> None:
    done = run_cli("validate", "--modules-dir", "modules", VALID)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "validate: 4 objects valid\n")


def test_every_problem_is_one_line_naming_file_object_and_field() -> None:
    done = run_cli("validate", B, "tests/unit/testdata/manifests/missing.yaml")
    assert done.returncode == 1
    known = "echo-server, patched-config, python-hook, dependent, hooks-only"
    assert done.stdout.splitlines() == [
        f"{B}/1-yaml-error.yaml: document 2: line 10, column 21: invalid YAML: while parsing a flow "
        "node; expected the node content, but found '}'",
        f"{B}/2-kinds.yaml: ConfigMap/addon-operator: kind: must be Module or GlobalConfig, got 'ConfigMap'",
        f"{B}/2-kinds.yaml: ConfigMap/addon-operator: apiVersion: must be addon-operator.io/v1alpha1, got 'v1'",
        f"{B}/2-kinds.yaml: Module/echo-server: apiVersion: must be addon-operator.io/v1alpha1, "
        "got 'addon-operator.io/v1'",
        f"{B}/2-kinds.yaml: GlobalConfig/main: metadata.name: must be 'global': GlobalConfig is a singleton",
        f"{B}/2-kinds.yaml: Module/?: metadata.name: is required",
        f"{B}/2-kinds.yaml: document 5: expected a Kubernetes object (a mapping), got a list",
        f"{B}/3-modules.yaml: Module/cert-manager: metadata.name: unknown module 'cert-manager' "
        f"(known modules: {known})",
        f"{B}/3-modules.yaml: Module/echo-server: spec.settings.colour: unknown field 'colour'",
        f"{B}/3-modules.yaml: Module/echo-server: spec.settings.ingress.host: missing required field 'host'",
        f"{B}/3-modules.yaml: Module/echo-server: spec.settings.mode: must be one of the allowed "
        "values 'plain', 'upper'",
        f"{B}/3-modules.yaml: Module/echo-server: spec.settings.replicas: must be of type integer",
        f"{B}/3-modules.yaml: Module/patched-config: spec.enabled: must be true or false, got a string",
        f"{B}/3-modules.yaml: Module/patched-config: spec.replicas: unknown field "
        "(allowed: enabled, settings, suspend)",
        f"{B}/3-modules.yaml: Module/python-hook: spec.settings.text: must be of type string",
        f"{B}/3-modules.yaml: Module/python-hook: metadata.name: duplicate object: Module/python-hook "
        f"is already defined in {B}/3-modules.yaml, document 4",
        f"{B}/3-modules.yaml: GlobalConfig/global: spec.settings.clusterName: must be at least "
        "1 character long",
        f"{B}/3-modules.yaml: GlobalConfig/global: spec.settings.domain: must match pattern "
        "'^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$'",
        f"{B}/4-odd-shapes.yaml: ['Module']/echo-server: kind: must be Module or GlobalConfig, got ['Module']",
        f"{B}/4-odd-shapes.yaml: Module/python-hook: spec: must be an object, got a list",
        f"{B}/4-odd-shapes.yaml: Module/dependent: spec.settings: must be an object, got a list",
        "tests/unit/testdata/manifests/missing.yaml: cannot read: No such file or directory",
    ]
    assert done.stderr == "validate: 22 problems in 15 objects\n"


def test_modules_dir_from_the_environment_and_legacy_name(tmp_path: Path) -> None:
    settings_file = tmp_path / "echo.yaml"
    settings_file.write_text(
        "apiVersion: addon-operator.io/v1alpha1\nkind: Module\nmetadata: {name: echo-server}\n"
        "spec: {settings: {replicas: -1}}\n"
    )
    line = f"{settings_file}: Module/echo-server: spec.settings.replicas: must be >= 0\n"
    for var in ("ADDON_OPERATOR_MODULES_DIR", "MODULES_DIR"):
        done = run_cli("validate", settings_file, cwd=tmp_path, env={var: f"{tmp_path}/none:{ROOT}/modules"})
        assert (done.returncode, done.stdout) == (1, "")
        assert done.stderr == f"addon-operator validate: error: modules dir {tmp_path}/none does not exist\n"
        done = run_cli("validate", settings_file, cwd=tmp_path, env={var: f"{ROOT}/modules"})
        assert (done.returncode, done.stdout) == (1, line)


def test_global_settings_are_checked_against_the_global_hooks_schema(tmp_path: Path) -> None:
    config = BROKEN / "3-modules.yaml"
    # Run elsewhere: without the global hooks dir there is no global schema to break.
    plain = run_cli("validate", "--modules-dir", ROOT / "modules", config, cwd=tmp_path)
    explicit = run_cli("validate", "--modules-dir", ROOT / "modules",
                       "--global-hooks-dir", ROOT / "global-hooks", config, cwd=tmp_path)
    assert "GlobalConfig/global" not in plain.stdout
    assert explicit.stdout.count("GlobalConfig/global") == 2


def test_usage_errors_exit_2() -> None:
    done = run_cli("validate")
    assert done.returncode == 2
    assert "the following arguments are required: FILE" in done.stderr


def test_problems_never_quote_a_setting_value(tmp_path: Path) -> None:
    manifest = tmp_path / "secrets.yaml"
    manifest.write_text(
        "apiVersion: addon-operator.io/v1alpha1\nkind: Module\nmetadata: {name: echo-server}\n"
        "spec: {settings: {message: 987654321123, mode: s3cr3t-value, replicas: s3cr3t-value,\n"
        "                  ingress: {className: s3cr3t-value}}}\n"
        "---\n"
        "apiVersion: addon-operator.io/v1alpha1\nkind: Module\nmetadata: {name: python-hook}\n"
        "spec: {enabled: s3cr3t-value, settings: s3cr3t-value}\n"
    )
    done = run_cli("validate", manifest)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{manifest}: Module/echo-server: spec.settings.ingress.host: missing required field 'host'",
        f"{manifest}: Module/echo-server: spec.settings.message: must be of type string",
        f"{manifest}: Module/echo-server: spec.settings.mode: must be one of the allowed values "
        "'plain', 'upper'",
        f"{manifest}: Module/echo-server: spec.settings.replicas: must be of type integer",
        f"{manifest}: Module/python-hook: spec.enabled: must be true or false, got a string",
        f"{manifest}: Module/python-hook: spec.settings: must be an object, got a string",
    ]
    for secret in ("987654321123", "s3cr3t"):
        assert secret not in done.stdout + done.stderr
