"""`addon-operator render`: composed values reach the pinned `helm template`; clear refusals."""

from __future__ import annotations

from pathlib import Path

from test_cli_support import VALID, objects, run_cli, write_module

HOOKS_NOTE = "render: hooks are not run, so values they would set are not in this output "
GLOBAL_HOOKS = "global hooks: before-all.sh, startup.sh)"


def module_manifest(tmp_path: Path, name: str, spec: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"apiVersion: addon-operator.io/v1alpha1\nkind: Module\nmetadata: {{name: {name}}}\nspec: {spec}\n"
    )
    return path


def test_defaults_and_static_values_without_manifests() -> None:
    done = run_cli("render", "echo-server")
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"{HOOKS_NOTE}(module hooks: none; {GLOBAL_HOOKS}\n"
    rendered = objects(done.stdout)
    assert sorted(rendered) == ["ConfigMap/echo-server", "Deployment/echo-server", "Service/echo-server"]
    assert rendered["ConfigMap/echo-server"]["data"] == {
        "message": "hello from echo-server",
        "mode": "plain",
        "url": "http://echo-server.default.svc:5678",
    }
    deployment = rendered["Deployment/echo-server"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "hashicorp/http-echo:1.0.0"
    assert deployment["metadata"]["labels"]["addon-operator.io/cluster"] == "sandbox"


def test_settings_from_the_manifests_are_composed_in() -> None:
    done = run_cli("render", "-f", VALID, "--namespace", "addons", "echo-server")
    assert done.returncode == 0, done.stderr
    rendered = objects(done.stdout)
    assert rendered["ConfigMap/echo-server"]["data"] == {
        "message": "HELLO FROM GIT",
        "mode": "upper",
        "url": "http://echo-server.addons.svc:5678",
    }
    assert rendered["Deployment/echo-server"]["spec"]["replicas"] == 3
    assert rendered["Deployment/echo-server"]["metadata"]["labels"]["addon-operator.io/cluster"] == "prod-eu"
    assert rendered["Ingress/echo-server"]["spec"]["rules"][0]["host"] == "echo.example.org"


def test_synthetic_chart_of_a_templates_only_module() -> None:
    done = run_cli("render", "--namespace", "addons", "dependent")
    assert done.returncode == 0, done.stderr
    assert objects(done.stdout)["ConfigMap/dependent"]["data"] == {
        "echoServerUrl": "http://echo-server.addons.svc/"
    }


def test_python_hook_values_are_the_schema_defaults_since_hooks_do_not_run() -> None:
    done = run_cli("render", "python-hook")
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"{HOOKS_NOTE}(module hooks: hooks/count_words.py; {GLOBAL_HOOKS}\n"
    assert objects(done.stdout)["ConfigMap/python-hook"]["data"] == {"wordCount": "0", "words": ""}


def test_unknown_module() -> None:
    done = run_cli("render", "cert-manager")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "addon-operator render: error: unknown module 'cert-manager' (known modules: echo-server, "
        "patched-config, python-hook, dependent, hooks-only)\n"
    )


def test_disabled_module_and_a_dependent_disabled_by_its_script(tmp_path: Path) -> None:
    off = module_manifest(tmp_path, "echo-server", "{enabled: false}")
    done = run_cli("render", "-f", off, "echo-server")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "addon-operator render: error: module echo-server is disabled (ModuleSpec): "
        "disabled by Module spec.enabled\n"
    )
    done = run_cli("render", "-f", off, "dependent")
    assert done.stderr == (
        "addon-operator render: error: module dependent is disabled (EnabledScript): "
        "disabled by the enabled script: needs the echo-server module\n"
    )


def test_invalid_settings(tmp_path: Path) -> None:
    bad = module_manifest(tmp_path, "echo-server", "{settings: {mode: loud}}")
    done = run_cli("render", "-f", bad, "echo-server")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "addon-operator render: error: invalid manifests, nothing rendered:\n"
        f"  {bad}: Module/echo-server: spec.settings.mode: must be one of the allowed values "
        "'plain', 'upper'\n"
    )


def test_missing_value_required_for_helm_that_a_hook_would_set() -> None:
    done = run_cli("render", "patched-config")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"{HOOKS_NOTE}(module hooks: hooks/generate-greeting.sh; {GLOBAL_HOOKS}\n"
        "addon-operator render: error: module patched-config cannot be rendered: values required for "
        "Helm (x-required-for-helm) are missing; hooks would set them, but render runs no hooks:\n"
        "  module patched-config: values.patchedConfig.internal.greeting: missing required field "
        "'greeting' (x-required-for-helm)\n"
    )


def test_hooks_only_module_has_nothing_to_render() -> None:
    done = run_cli("render", "hooks-only")
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == "render: module hooks-only has no chart (hooks only): nothing to render\n"


def test_helm_failures_and_a_missing_helm_are_reported(tmp_path: Path) -> None:
    write_module(tmp_path / "mods", "001-broken", {
        "values.yaml": "brokenEnabled: true\n",
        "templates/cm.yaml": "data: {{ .Values.broken.nothing.here }}\n",
    })
    done = run_cli("render", "--modules-dir", tmp_path / "mods", "broken", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert "\naddon-operator render: error: helm template broken failed: " in done.stderr
    assert "nil pointer evaluating interface {}.here" in done.stderr
    done = run_cli("render", "echo-server", env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 1
    assert done.stderr.endswith(
        "addon-operator render: error: helm not found on PATH (`make setup` installs the pinned "
        "one into .tools/bin)\n"
    )
