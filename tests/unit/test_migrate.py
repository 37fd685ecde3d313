"""`addon-operator migrate`: an upstream ConfigMap becomes GlobalConfig and Module manifests.

The command is run in-process through its own `register`/`run` (as `cli.py` wires every
command), on the ConfigMaps in testdata/migrate/ and the example modules in `modules/`.
"""

from __future__ import annotations

import argparse
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from addon_operator import manifests
from addon_operator.commands import migrate
from addon_operator.commands.inputs import CommandError
from addon_operator.migration import convert

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "testdata" / "migrate"
CONFIGMAP = DATA / "configmap.yaml"
MODULES = str(ROOT / "modules")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def objects(self) -> dict[str, dict]:
        return {f"{d['kind']}/{d['metadata']['name']}": d for d in yaml.safe_load_all(self.stdout) if d}

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("warning: ")]


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str,
        stdin: str = "") -> Result:
    monkeypatch.delenv("ADDON_OPERATOR_GLOBAL_HOOKS_DIR", raising=False)
    monkeypatch.delenv("GLOBAL_HOOKS_DIR", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    parser = argparse.ArgumentParser(prog="addon-operator")
    migrate.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["migrate", *argv])
    code = args.run(args)
    out = capsys.readouterr()
    return Result(code, out.out, out.err)


def test_conversion_without_modules_dir(monkeypatch, capsys) -> None:
    done = run(monkeypatch, capsys, "--configmap", str(CONFIGMAP))
    assert done.code == 0
    assert list(done.objects) == [
        "GlobalConfig/global", "Module/cert-manager", "Module/echo-server",
        "Module/hooks-only", "Module/patched-config",
    ]
    assert done.objects["GlobalConfig/global"] == {
        "apiVersion": "addon-operator.io/v1alpha1", "kind": "GlobalConfig",
        "metadata": {"name": "global"},
        "spec": {"settings": {"clusterName": "prod-eu", "domain": "example.org"}},
    }
    assert done.objects["Module/echo-server"]["spec"] == {
        "enabled": True,
        "settings": {"replicas": 3, "message": "hello from the configmap",
                     "ingress": {"host": "echo.example.org"}},
    }
    assert done.objects["Module/hooks-only"]["spec"] == {"enabled": False}  # "False": case-insensitive
    assert done.objects["Module/patched-config"]["spec"] == {"settings": {"greeting": "Hi"}}
    assert done.stdout.startswith(f"# Converted from {CONFIGMAP} by `addon-operator migrate`.\n---\n")
    assert done.warnings == [
        "warning: spec.enabled left unset for cert-manager, patched-config (no <moduleKey>Enabled in "
        "the ConfigMap): their defaults decide; give --modules-dir to pin today's defaults",
        f"warning: {CONFIGMAP}: ConfigMap/addon-operator: data.pythonHookMaintenance: "
        "dropped: Module has no maintenance state; spec.suspend "
        "(stop hooks and Helm, uninstall nothing) is the nearest equivalent",
    ]
    assert done.stderr.splitlines()[-1] == "migrate: 1 GlobalConfig and 4 Modules written to stdout"


def test_output_is_accepted_by_the_manifest_reader_and_deterministic(monkeypatch, capsys) -> None:
    first = run(monkeypatch, capsys, "--configmap", str(CONFIGMAP)).stdout
    assert run(monkeypatch, capsys, "--configmap", str(CONFIGMAP)).stdout == first
    found = manifests.Manifests()
    manifests.parse(first, "out.yaml", 0, found)
    assert found.problems == []
    assert found.count == 5


def test_modules_dir_validates_pins_and_warns_on_unknown_modules(monkeypatch, capsys, tmp_path) -> None:
    out = tmp_path / "addons.yaml"
    done = run(monkeypatch, capsys, "--configmap", str(CONFIGMAP), "--modules-dir", MODULES,
               "--global-hooks-dir", str(ROOT / "global-hooks"), "--output", str(out))
    assert (done.code, done.stdout) == (0, "")
    objects = {f"{d['kind']}/{d['metadata']['name']}": d for d in yaml.safe_load_all(out.read_text()) if d}
    # patched-config had no patchedConfigEnabled: pinned from modules/values.yaml.
    assert objects["Module/patched-config"]["spec"] == {"enabled": True, "settings": {"greeting": "Hi"}}
    assert "enabled" not in objects["Module/cert-manager"]["spec"]  # unknown: nothing to pin from
    assert done.warnings == [
        f"warning: {CONFIGMAP}: Module/cert-manager: no such module in the modules dirs (known modules: "
        "echo-server, patched-config, python-hook, dependent, hooks-only); the operator will report "
        "it with phase Unknown",
        "warning: pinned Module/patched-config: spec.enabled: true (enabled by patchedConfigEnabled in "
        "the modules directory values.yaml); --keep-enabled-unset leaves it to the defaults",
        "warning: pinned spec.enabled values take precedence over <moduleKey>Enabled patches from "
        "global hooks; use --keep-enabled-unset if a global hook decides these modules",
        f"warning: {CONFIGMAP}: ConfigMap/addon-operator: data.pythonHookMaintenance: "
        "dropped: Module has no maintenance state; spec.suspend "
        "(stop hooks and Helm, uninstall nothing) is the nearest equivalent",
    ]
    assert done.stderr.splitlines()[-1] == f"migrate: 1 GlobalConfig and 4 Modules written to {out}"


def test_keep_enabled_unset(monkeypatch, capsys) -> None:
    done = run(monkeypatch, capsys, "--configmap", str(CONFIGMAP), "--modules-dir", MODULES,
               "--keep-enabled-unset")
    assert done.code == 0
    assert done.objects["Module/patched-config"]["spec"] == {"settings": {"greeting": "Hi"}}
    assert not any("pinned" in w or "left unset" in w for w in done.warnings)


def test_settings_are_checked_against_the_module_schemas(monkeypatch, capsys, tmp_path) -> None:
    cm = tmp_path / "cm.yaml"
    cm.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: addon-operator}\ndata:\n"
        "  echoServer: |\n    replicas: three\n    colour: red\n"
        "  global: |\n    domain: Not_A_Domain\n"
    )
    out = tmp_path / "out.yaml"
    done = run(monkeypatch, capsys, "--configmap", str(cm), "--modules-dir", MODULES,
               "--global-hooks-dir", str(ROOT / "global-hooks"), "-o", str(out))
    assert done.code == 1
    assert not out.exists()
    assert done.stderr.splitlines()[-4:] == [
        f"{cm}: GlobalConfig/global: spec.settings.domain: must match pattern "
        "'^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$'",
        f"{cm}: Module/echo-server: spec.settings.colour: unknown field 'colour'",
        f"{cm}: Module/echo-server: spec.settings.replicas: must be of type integer",
        "migrate: 3 problems, nothing written",
    ]


def test_every_malformed_key_and_section_is_named(monkeypatch, capsys) -> None:
    broken = DATA / "broken.yaml"
    done = run(monkeypatch, capsys, "--configmap", str(broken))
    assert (done.code, done.stdout) == (1, "")
    where = f"{broken}: ConfigMap/addon-operator"
    assert done.stderr.splitlines() == [
        f"{where}: data.global: must be a YAML mapping of settings, got a list",
        f"{where}: data.cert-manager: bad module key 'cert-manager': it must be camelCase and survive "
        "the round trip key → module name → key ('cert-manager' → 'cert-manager' → 'certManager')",
        f"{where}: data.CertManagerEnabled: bad module key 'CertManager': it must be camelCase and "
        "survive the round trip key → module name → key ('CertManager' → 'cert-manager' → 'certManager')",
        f"{where}: data.echoServer: invalid YAML: mapping values are not allowed here "
        "(line 2, column 10 of the section)",
        f"{where}: data.echoServerEnabled: must be \"true\" or \"false\"",
        f"{where}: data.patchedConfig: must be a YAML mapping of settings, got a boolean "
        "(to disable the module use patchedConfigEnabled: \"false\")",
        f"{where}: data.pythonHook: must be a YAML mapping of settings, got a list",
        f"{where}: data.globalEnabled: 'global' is the global section, not a module: it cannot be "
        "enabled or disabled",
        f"{where}: data.Enabled: no module key before the suffix",
        f"{where}: data.dependent: is empty: a module section must be a YAML mapping of settings "
        "(write {} for none)",
        f"{where}: data.replicaCount: must be a string (ConfigMap data holds YAML text), got an "
        "integer (quote it)",
        "migrate: 11 problems, nothing written",
    ]


SECRET, SECRET_NUMBER = "s3cr3t-value", 987654321123


@pytest.mark.parametrize("data", [
    # shape problems: the conversion stops before any schema check
    f"  global: '[{SECRET}]'\n  echoServer: '{SECRET}'\n  patchedConfig: '{SECRET_NUMBER}'\n"
    f"  pythonHook: '[{SECRET_NUMBER}]'\n  echoServerEnabled: '{SECRET}'\n"
    f"  replicaCount: {SECRET_NUMBER}\n  certManager: {SECRET}\n",
    # settings refused by the modules' schemas, and a Maintenance value dropped with a warning
    f"  echoServer: |\n    replicas: {SECRET}\n    colour: {SECRET}\n"
    f"  global: |\n    domain: {SECRET.upper()}_{SECRET_NUMBER}\n"
    f"  pythonHookMaintenance: {SECRET}\n",
    # a good conversion: only the Maintenance warning
    f"  pythonHookMaintenance: {SECRET}-{SECRET_NUMBER}\n  echoServer: '{{}}'\n",
], ids=["shapes", "schemas", "warnings"])
def test_no_value_from_the_configmap_is_ever_printed(monkeypatch, capsys, tmp_path, data: str) -> None:
    """ConfigMap data can hold secrets: problems and warnings name the key and the type or the
    rule, never the value."""
    cm = tmp_path / "cm.yaml"
    cm.write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: addon-operator}}\ndata:\n{data}")
    done = run(monkeypatch, capsys, "--configmap", str(cm), "--modules-dir", MODULES,
               "--global-hooks-dir", str(ROOT / "global-hooks"), "-o", str(tmp_path / "out.yaml"))
    assert done.stderr.count(f"{cm}: ") >= 1
    for secret in (SECRET, SECRET.upper(), str(SECRET_NUMBER)):
        assert secret not in done.stderr.replace(str(tmp_path), "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n",
         "not a ConfigMap (apiVersion v1, kind ConfigMap): got kind 'Secret', apiVersion 'v1'"),
        ("- a\n- b\n", "not a ConfigMap (apiVersion v1, kind ConfigMap): got a list"),
        ("kind: ConfigMap\napiVersion: v1\n---\nkind: ConfigMap\napiVersion: v1\n",
         "expected one ConfigMap manifest, found 2 YAML documents"),
        ("", "expected one ConfigMap manifest, found 0 YAML documents"),
        ("kind: ConfigMap\ndata: {a: [}\n", "line 2, column 12: invalid YAML: while parsing a flow node; "
                                           "expected the node content, but found '}'"),
    ],
)
def test_input_that_is_not_one_configmap(text: str, message: str) -> None:
    problems = [str(p) for p in convert(text, "in.yaml").problems]
    assert len(problems) == 1 and problems[0].startswith(f"in.yaml: {message}")


def test_stdin_and_empty_global(monkeypatch, capsys) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: addon-operator}\ndata:\n  global: ''\n"
    done = run(monkeypatch, capsys, "--configmap", "-", stdin=text)
    assert done.code == 0
    assert done.stdout.startswith("# Converted from <stdin> by")
    assert done.objects == {"GlobalConfig/global": {
        "apiVersion": "addon-operator.io/v1alpha1", "kind": "GlobalConfig",
        "metadata": {"name": "global"}, "spec": {},
    }}


def test_unreadable_file_is_a_command_error(monkeypatch, capsys, tmp_path) -> None:
    with pytest.raises(CommandError, match=f"{tmp_path}/none.yaml: cannot read: No such file or directory"):
        run(monkeypatch, capsys, "--configmap", str(tmp_path / "none.yaml"))
