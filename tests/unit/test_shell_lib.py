"""The bash hook framework (`frameworks/shell_lib.sh`): real bash hooks with real binding
contexts and values files, asserting which handlers `hook::run` dispatched to, what the
`context::*` and `values::*` helpers return, and the values patches the hooks wrote."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from addon_operator.runner import run
from addon_operator.values.patches import parse_patch_stream

FRAMEWORKS = Path(__file__).resolve().parents[2] / "operator" / "addon_operator" / "frameworks"
SHELL_LIB = FRAMEWORKS / "shell_lib.sh"

POD = {"metadata": {"name": "pod-1", "namespace": "web",
                    "labels": {"app.kubernetes.io/name": "shop"}},
       "spec": {"ready": True, "paused": False, "ports": [80, 443], "owner": None}}
VALUES = {"global": {"clusterName": "dev"},
          "myModule": {"enabled": True, "debug": False, "zones": ["a", "b"],
                       "rows": [{"name": "x", "port": 1}, {"name": "y", "port": 2}],
                       "internal": {}}}
CONFIG = {"global": {}, "myModule": {"replicas": 2}}


@dataclass
class HookRun:
    exit_code: int
    stdout: str
    stderr: str
    values_patch: str
    config_patch: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def run_hook(tmp_path: Path, body: str, contexts: list[dict[str, Any]], *args: str,
             lib: Path = SHELL_LIB) -> HookRun:
    """Write a hook that sources `lib`, defines `body` and calls `hook::run`, then run it with
    the operator's environment variables and files."""
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/usr/bin/env bash\nsource {lib}\n{body}\nhook::run \"$@\"\n")
    hook.chmod(0o755)
    files = {name: tmp_path / name for name in (
        "context.json", "values.json", "config.json", "values.patch", "config.patch")}
    files["context.json"].write_text(json.dumps(contexts))
    files["values.json"].write_text(json.dumps(VALUES))
    files["config.json"].write_text(json.dumps(CONFIG))
    files["values.patch"].write_text("")
    files["config.patch"].write_text("")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin",
           "BINDING_CONTEXT_PATH": str(files["context.json"]),
           "VALUES_PATH": str(files["values.json"]),
           "CONFIG_VALUES_PATH": str(files["config.json"]),
           "VALUES_JSON_PATCH_PATH": str(files["values.patch"]),
           "CONFIG_VALUES_JSON_PATCH_PATH": str(files["config.patch"])}
    done = run([str(hook), *args], env=env, cwd=str(tmp_path), timeout=60)
    return HookRun(done.exit_code, done.stdout, done.stderr,
                   files["values.patch"].read_text(), files["config.patch"].read_text())


def ops(text: str) -> list[dict[str, Any]]:
    """The patch operations, read the way the operator reads them."""
    return parse_patch_stream(text)


def event(binding: str, watch_event: str) -> dict[str, Any]:
    return {"binding": binding, "type": "Event", "watchEvent": watch_event, "object": POD}


ALL_HANDLERS = [
    "__on_startup", "__on_before_all", "__on_after_all", "__on_before_helm", "__on_after_helm",
    "__on_before_delete_helm", "__on_after_delete_helm",
    "__on_kubernetes::pods::synchronization", "__on_kubernetes::pods::added",
    "__on_kubernetes::pods::modified", "__on_kubernetes::pods::deleted",
    "__on_group::main-group", "__on_schedule::every-minute", "__on_validating::check",
    "__on_mutating::mutate", "__on_conversion::crd::example.io.v1::example.io.v2",
]
EVERY_CONTEXT = [
    {"binding": "onStartup"},
    {"binding": "beforeAll", "snapshots": {}},
    {"binding": "afterAll", "snapshots": {}},
    {"binding": "beforeHelm", "snapshots": {}},
    {"binding": "afterHelm", "snapshots": {}},
    {"binding": "beforeDeleteHelm", "snapshots": {}},
    {"binding": "afterDeleteHelm", "snapshots": {}},
    {"binding": "pods", "type": "Synchronization", "objects": [{"object": POD}]},
    event("pods", "Added"), event("pods", "Modified"), event("pods", "Deleted"),
    {"binding": "nodes", "type": "Group", "groupName": "main-group", "snapshots": {}},
    {"binding": "every-minute", "type": "Schedule"},
    {"binding": "check", "type": "Validating", "review": {"request": {}}},
    {"binding": "mutate", "type": "Mutating", "review": {"request": {}}},
    {"binding": "crd", "type": "Conversion", "fromVersion": "example.io/v1",
     "toVersion": "example.io/v2", "review": {"request": {}}},
]


def echo_handlers(names: list[str]) -> str:
    return "\n".join(
        f'function {name}() {{ echo "{name} $BINDING_CONTEXT_CURRENT_INDEX '
        f'$BINDING_CONTEXT_CURRENT_BINDING"; }}' for name in names)


def test_config_prints_the_configuration_and_runs_no_handler(tmp_path: Path) -> None:
    body = "function __config__() { echo 'configVersion: v1'; echo 'onStartup: 1'; }\n" \
           + echo_handlers(["__main__"])
    result = run_hook(tmp_path, body, [{"binding": "onStartup"}], "--config")
    assert (result.exit_code, result.stdout) == (0, "configVersion: v1\nonStartup: 1\n")


def test_every_context_type_reaches_its_specific_handler(tmp_path: Path) -> None:
    result = run_hook(tmp_path, echo_handlers(ALL_HANDLERS + ["__main__"]), EVERY_CONTEXT)
    assert result.exit_code == 0, result.stderr
    bindings = [context["binding"] for context in EVERY_CONTEXT]
    assert result.lines == [f"{name} {index} {binding}" for index, (name, binding)
                            in enumerate(zip(ALL_HANDLERS, bindings))]


def test_less_specific_handlers_and_main_are_fallbacks(tmp_path: Path) -> None:
    handlers = ["__on_kubernetes::pods::added_or_modified", "__on_kubernetes::pods",
                "__on_conversion::crd", "__main__"]
    contexts = [event("pods", "Added"), event("pods", "Modified"), event("pods", "Deleted"),
                {"binding": "pods", "type": "Synchronization", "objects": []},
                EVERY_CONTEXT[-1], {"binding": "every-minute", "type": "Schedule"},
                {"binding": "beforeHelm", "snapshots": {}}, {"binding": "onStartup"}]
    result = run_hook(tmp_path, echo_handlers(handlers), contexts)
    assert result.exit_code == 0, result.stderr
    assert [line.split()[0] for line in result.lines] == [
        "__on_kubernetes::pods::added_or_modified", "__on_kubernetes::pods::added_or_modified",
        "__on_kubernetes::pods", "__on_kubernetes::pods", "__on_conversion::crd",
        "__main__", "__main__", "__main__"]


def test_a_context_without_a_handler_fails_naming_what_was_looked_for(tmp_path: Path) -> None:
    result = run_hook(tmp_path, echo_handlers(["__on_startup"]),
                      [{"binding": "onStartup"}, event("pods", "Deleted")])
    assert result.exit_code != 0
    assert result.lines == ["__on_startup 0 onStartup"]
    assert ("binding context 1 (binding pods): no handler defined; looked for: "
            "__on_kubernetes::pods::deleted __on_kubernetes::pods __main__") in result.stderr


def test_a_failing_command_stops_the_handler_and_the_run(tmp_path: Path) -> None:
    body = r"""
function __on_schedule::tick() {
  echo "before"
  ls /does-not-exist >/dev/null 2>&1
  echo "after"
}
function __main__() { echo "main $BINDING_CONTEXT_CURRENT_INDEX"; }
"""
    result = run_hook(tmp_path, body, [{"binding": "tick", "type": "Schedule"},
                                       {"binding": "other", "type": "Schedule"}])
    assert result.exit_code == 2
    assert result.lines == ["before"]
    assert "ERROR: `ls /does-not-exist" in result.stderr and "exited with status 2" in result.stderr
    assert "at __on_schedule::tick (" in result.stderr
    assert result.stderr.count("ERROR:") == 1


def test_handlers_run_in_subshells_and_cannot_swallow_the_next_contexts(tmp_path: Path) -> None:
    body = r"""
function __on_schedule::tick() { echo "seen=${LEAK:-unset}"; LEAK=set; cat >/dev/null; }
"""
    result = run_hook(tmp_path, body, [{"binding": "tick", "type": "Schedule"}] * 2)
    assert result.lines == ["seen=unset", "seen=unset"]


def test_an_empty_context_array_runs_nothing(tmp_path: Path) -> None:
    result = run_hook(tmp_path, echo_handlers(["__main__"]), [])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_context_readers(tmp_path: Path) -> None:
    body = r"""
function __on_kubernetes::pods::added() {
  echo "name=$(context::get object.metadata.name)"
  echo "label=$(context::get 'object.metadata.labels."app.kubernetes.io/name"')"
  echo "port=$(context::get object.spec.ports.1)"
  echo "missing=$(context::get object.metadata.nothing.deeper)"
  echo "event=$(context::jq -r '.watchEvent')"
  echo "count=$(context::global::jq 'length')"
  for path in object.spec.ready object.spec.ports.1 object.spec.ports.2 object.spec.owner \
              object.nothing object.metadata.name.deeper; do
    flags=""
    context::has "$path" && flags+=" has"
    context::is_true "$path" && flags+=" true"
    context::is_false "$path" && flags+=" false"
    context::is_null "$path" && flags+=" null"
    echo "$path:$flags"
  done
}
function __on_kubernetes::pods::modified() { context::get --required object.status.phase; }
"""
    result = run_hook(tmp_path, body, [event("pods", "Added"), event("pods", "Modified")])
    assert result.lines == [
        "name=pod-1", "label=shop", "port=443", "missing=null", "event=Added", "count=2",
        "object.spec.ready: has true",
        "object.spec.ports.1: has",
        "object.spec.ports.2: null",
        "object.spec.owner: has null",
        "object.nothing: null",
        "object.metadata.name.deeper:",
    ]
    assert result.exit_code == 1
    assert 'ERROR: binding context 1 (binding pods) has no value at "object.status.phase"' \
        in result.stderr


def test_values_readers(tmp_path: Path) -> None:
    body = r"""
function __main__() {
  echo "cluster=$(values::get global.clusterName)"
  echo "zones=$(values::get myModule.zones | jq -c .)"
  echo "replicas=$(values::get --config myModule.replicas)"
  echo "required=$(values::get --config --required myModule.replicas)"
  echo "first=$(values::get_first_defined myModule.nope myModule.zones.0 global.clusterName)"
  echo "jq=$(values::jq -r '.myModule.rows | map(.name) | join(",")')"
  values::has myModule.debug && echo "has debug"
  values::has myModule.nope || echo "no nope"
  values::has --config myModule.zones || echo "config has no zones"
  values::is_true myModule.enabled && echo "enabled"
  values::is_false myModule.debug && echo "not debugging"
  values::is_true myModule.debug || echo "debug is not true"
  values::array_has myModule.zones b && echo "zone b"
  values::array_has myModule.zones c || echo "no zone c"
  values::require_in_config myModule.replicas && echo "replicas configured"
  values::get_first_defined myModule.a myModule.b || echo "none defined"
  values::require_in_config myModule.zones
}
"""
    result = run_hook(tmp_path, body, [{"binding": "every", "type": "Schedule"}])
    assert result.lines == [
        "cluster=dev", 'zones=["a","b"]', "replicas=2", "required=2", "first=a", "jq=x,y",
        "has debug", "no nope", "config has no zones", "enabled", "not debugging",
        "debug is not true", "zone b", "no zone c", "replicas configured", "none defined",
    ]
    assert result.exit_code == 1
    assert 'ERROR: "myModule.zones" is required in the config values' in result.stderr
    assert result.values_patch == "" and result.config_patch == ""


def test_values_get_required_fails_for_a_missing_value(tmp_path: Path) -> None:
    result = run_hook(tmp_path, "function __main__() { values::get --required myModule.nope; }",
                      [{"binding": "every", "type": "Schedule"}])
    assert result.exit_code == 1
    assert 'ERROR: $VALUES_PATH has no value at "myModule.nope"' in result.stderr


def test_values_writers_append_json_patches(tmp_path: Path) -> None:
    body = r"""
function __on_kubernetes::pods::added() {
  values::set myModule.internal.object '{"a": [1, 2]}'
  values::set myModule.internal.number 3
  values::set myModule.internal.text 'plain text'
  values::set myModule.internal.quoted '"3"'
  values::set 'myModule.internal."a/b~c"' true
  values::unset myModule.debug
  values::unset myModule.nope
}
function __on_kubernetes::pods::deleted() {
  values::store::replace_row_by_key myModule.rows name '{"name": "y", "port": 22}'
  values::store::replace_row_by_key myModule.rows name '{"name": "z", "port": 3}'
  values::store::unset_row_by_key myModule.rows name '{"name": "x"}'
  values::store::unset_row_by_key myModule.rows name '{"name": "absent"}'
  values::set --config myModule.replicas 5
}
"""
    result = run_hook(tmp_path, body, [event("pods", "Added"), event("pods", "Deleted")])
    assert result.exit_code == 0, result.stderr
    assert ops(result.values_patch) == [
        {"op": "add", "path": "/myModule/internal/object", "value": {"a": [1, 2]}},
        {"op": "add", "path": "/myModule/internal/number", "value": 3},
        {"op": "add", "path": "/myModule/internal/text", "value": "plain text"},
        {"op": "add", "path": "/myModule/internal/quoted", "value": "3"},
        {"op": "add", "path": "/myModule/internal/a~1b~0c", "value": True},
        {"op": "remove", "path": "/myModule/debug"},
        {"op": "remove", "path": "/myModule/rows/1"},
        {"op": "add", "path": "/myModule/rows/1", "value": {"name": "y", "port": 22}},
        {"op": "add", "path": "/myModule/rows/-", "value": {"name": "z", "port": 3}},
        {"op": "remove", "path": "/myModule/rows/0"},
    ]
    assert ops(result.config_patch) == [
        {"op": "add", "path": "/myModule/replicas", "value": 5}]


def test_the_image_layout_finds_the_framework_files(tmp_path: Path) -> None:
    image_root = tmp_path / "image"
    shutil.copytree(FRAMEWORKS / "shell", image_root / "frameworks" / "shell")
    shutil.copy(SHELL_LIB, image_root / "shell_lib.sh")
    result = run_hook(tmp_path, echo_handlers(["__on_startup"]), [{"binding": "onStartup"}],
                      lib=image_root / "shell_lib.sh")
    assert (result.exit_code, result.lines) == (0, ["__on_startup 0 onStartup"])
