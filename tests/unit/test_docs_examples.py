"""The examples of docs/hooks.md are real.

The example hooks (`docs/examples/`) form a module that discovery accepts, their `--config`
parses, and one run with a binding context produces the values patches, metrics and kubernetes
operations the page describes; the page shows the files verbatim, so it cannot drift from what
is tested here. Its `--config`, values patch, metrics and kubernetes operation snippets parse
with the operator's own parsers."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from addon_operator.discovery import discover
from addon_operator.hooks import (
    BindingContext,
    HookConfig,
    HookResult,
    HookSpec,
    lifecycle_contexts,
    load_hook_config,
    parse_hook_config,
    render_contexts,
    run_hook,
)
from addon_operator.kubepatch import parse_operations
from addon_operator.kubepatch.operations import Create
from addon_operator.metrics import HookMetrics, parse_metrics_stream
from addon_operator.runner import run
from addon_operator.values import (
    Schemas, check_module_patch, parse_patch_stream, validate_values,
)

ROOT = Path(__file__).resolve().parents[2]
MODULES_DIR = ROOT / "docs" / "examples" / "modules"
MODULE = MODULES_DIR / "100-example"
BASH_HOOK = "hooks/ingress-nodes.sh"
PYTHON_HOOK = "hooks/credentials.py"
SHELL_LIB = ROOT / "operator" / "addon_operator" / "frameworks" / "shell_lib.sh"
HOOKS_DOC = ROOT / "docs" / "hooks.md"
NAMESPACE = "addon-operator"


@pytest.fixture
def env() -> dict[str, str]:
    """The operator's environment as the hooks see it (the framework outside the image)."""
    return {"PATH": os.environ["PATH"], "SHELL_LIB": str(SHELL_LIB),
            "ADDON_OPERATOR_NAMESPACE": NAMESPACE}


def config_of(name: str, env: dict[str, str]) -> HookConfig:
    return load_hook_config(MODULE / name, kind="module", module_name="example", env=env,
                            hooks_dir=MODULE / "hooks")


def run_example(name: str, contexts: list[dict[str, Any]], env: dict[str, str],
                tmp_path: Path) -> HookResult:
    spec = HookSpec(name, MODULE / name, config_of(name, env))
    values = {"global": {"clusterName": "demo"}, "example": {"internal": {}}}
    config_values: dict[str, Any] = {"global": {}, "example": {}}
    return run_hook(spec, contexts, values=values, config_values=config_values, kind="module",
                    module_key="example", tmp_dir=tmp_path, timeout=30, env=env)


def assert_valid_values(result: HookResult) -> None:
    schema = yaml.safe_load((MODULE / "openapi" / "values.yaml").read_text())
    schemas = Schemas.load(None, schema, owner="module example")
    assert result.patched_values is not None
    problems = validate_values(result.patched_values["example"], schemas, "module example",
                               key="example")
    assert problems == []


def node(name: str, ready: bool) -> dict[str, Any]:
    return {"filterResult": {"name": name, "ready": ready}}


def test_the_examples_form_a_module_discovery_accepts() -> None:
    found = discover([MODULES_DIR], None)
    assert found.warnings == ()
    (module,) = found.modules
    assert (module.name, module.key, module.order) == ("example", "example", 100)
    assert [p.relative_to(MODULE).as_posix() for p in module.hooks] == [PYTHON_HOOK, BASH_HOOK]


@pytest.mark.parametrize("name", [BASH_HOOK, PYTHON_HOOK])
def test_config_output_parses_the_same_both_ways(name: str, env: dict[str, str]) -> None:
    done = run([str(MODULE / name), "--config"], env=env, cwd=str(MODULE / "hooks"), timeout=30)
    assert done.ok, done.stderr
    parsed = parse_hook_config(done.stdout, hook=name, kind="module")
    assert parsed == config_of(name, env)


def test_bash_example_config(env: dict[str, str]) -> None:
    config = config_of(BASH_HOOK, env)
    assert config.version == "v1"
    assert config.lifecycle == {"beforeHelm": 10.0}
    (binding,) = config.kubernetes
    assert (binding.name, binding.kind, binding.api_version, binding.group) == (
        "ingress_nodes", "Node", "v1", "main")
    assert binding.include_snapshots_from == ("ingress_nodes",)   # implied by the group
    assert binding.label_selector is not None
    assert binding.label_selector.to_query() == "node-role.kubernetes.io/ingress="
    assert config.binding_names() == ["beforeHelm", "ingress_nodes"]


def test_bash_example_before_helm_stores_the_ready_nodes(env: dict[str, str],
                                                          tmp_path: Path) -> None:
    snapshots = {"ingress_nodes": [node("n2", True), node("n1", False), node("n0", True)]}
    result = run_example(BASH_HOOK, lifecycle_contexts("beforeHelm", "v1", snapshots), env,
                         tmp_path)
    assert result.ok, result.message
    assert result.values_ops == [
        {"op": "add", "path": "/example/internal/ingressNodes", "value": ["n0", "n2"]}]
    assert result.metrics == [{"action": "set", "group": "ingress_nodes",
                               "name": "example_ingress_nodes", "value": 2.0, "labels": {}}]
    assert result.kube_patch_ops_text == ""
    assert_valid_values(result)


def test_bash_example_handles_a_group_context(env: dict[str, str], tmp_path: Path) -> None:
    group = BindingContext("ingress_nodes", "Group", group_name="main",
                           snapshots={"ingress_nodes": [node("n1", True)]})
    result = run_example(BASH_HOOK, render_contexts([group], "v1"), env, tmp_path)
    assert result.ok, result.message
    assert result.patched_values is not None
    assert result.patched_values["example"]["internal"]["ingressNodes"] == ["n1"]


def test_bash_example_without_snapshots_stores_an_empty_list(env: dict[str, str],
                                                             tmp_path: Path) -> None:
    result = run_example(BASH_HOOK, lifecycle_contexts("beforeHelm", "v1", {}), env, tmp_path)
    assert result.ok, result.message
    assert result.values_ops[0]["value"] == []


def test_python_example_config(env: dict[str, str]) -> None:
    config = config_of(PYTHON_HOOK, env)
    assert config.lifecycle == {"beforeHelm": 5.0}
    (binding,) = config.kubernetes
    assert binding.namespace.match_names == (NAMESPACE,)
    assert binding.name_selector == ("example-credentials",)
    assert binding.execute_hook_on_event == ()
    assert binding.execute_hook_on_synchronization is False
    assert binding.keep_full_objects_in_memory is False


def test_python_example_generates_the_password_and_creates_the_secret(
        env: dict[str, str], tmp_path: Path) -> None:
    contexts = lifecycle_contexts("beforeHelm", "v1", {"credentials": []})
    result = run_example(PYTHON_HOOK, contexts, env, tmp_path)
    assert result.ok, result.message
    (op,) = result.values_ops
    assert op["path"] == "/example/internal/password" and len(op["value"]) == 32
    (create,) = parse_operations(result.kube_patch_ops_text)
    assert isinstance(create, Create) and create.operation == "CreateIfNotExists"
    assert (create.target.kind, create.target.namespace, create.target.name) == (
        "Secret", NAMESPACE, "example-credentials")
    stored = base64.b64decode(create.object["data"]["password"]).decode()
    assert stored == op["value"]
    assert [m["value"] for m in result.metrics] == [1.0]
    assert_valid_values(result)


def test_python_example_reuses_the_password_of_the_secret(env: dict[str, str],
                                                          tmp_path: Path) -> None:
    encoded = base64.b64encode(b"kept-secret").decode()
    contexts = lifecycle_contexts("beforeHelm", "v1",
                                  {"credentials": [{"filterResult": encoded}]})
    result = run_example(PYTHON_HOOK, contexts, env, tmp_path)
    assert result.ok, result.message
    assert result.values_ops == [
        {"op": "add", "path": "/example/internal/password", "value": "kept-secret"}]
    assert result.kube_patch_ops_text == ""
    assert [m["value"] for m in result.metrics] == [0.0]


@pytest.mark.parametrize("name", [BASH_HOOK, PYTHON_HOOK])
def test_hooks_doc_shows_the_example_verbatim(name: str) -> None:
    assert (MODULE / name).read_text() in HOOKS_DOC.read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", HOOKS_DOC.read_text(), re.S | re.M)


def test_hooks_doc_config_snippets_parse() -> None:
    configs = [block for block in code_blocks("yaml") if "beforeHelm:" in block]
    assert len(configs) == 2   # the v1 and the v0 example
    versions = {parse_hook_config(block, hook="hooks.md", kind="module").version
                for block in configs}
    assert versions == {"v0", "v1"}


def test_hooks_doc_output_snippets_are_valid() -> None:
    kinds = set()
    for block in code_blocks("json"):
        if '"op"' in block:
            ops = parse_patch_stream(block)
            check_module_patch(ops, "echoServer")
            kinds.add("values")
        elif '"operation"' in block:
            assert len(parse_operations(block)) == 2
            kinds.add("kubernetes")
        elif '"action"' in block:
            HookMetrics().apply(parse_metrics_stream(block), "hooks/backup.sh", "backup")
            kinds.add("metrics")
    assert kinds == {"values", "kubernetes", "metrics"}
