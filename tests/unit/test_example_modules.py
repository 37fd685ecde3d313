"""The example modules and global hooks work with the engine (the demo and e2e rely on them).

Each hook's `--config` parses with the expected bindings; each lifecycle run writes values
patches that follow the patch rules and pass the values schemas; a chart that needs a hook's
value renders with the pinned helm once the hook has run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from addon_operator.discovery import discover
from addon_operator.helm import HelmClient, prepare_chart
from addon_operator.hooks.config_schema import HookKind
from addon_operator.hooks.contexts import lifecycle_contexts
from addon_operator.hooks.execute import HookResult, HookSpec, run_hook
from addon_operator.hooks.load import load_hook_config
from addon_operator.models import ModuleDef
from addon_operator.values import GLOBAL_KEY, Schemas, compose, helm_values, validate_values

ROOT = Path(__file__).resolve().parents[2]
FOUND = discover([ROOT / "modules"], ROOT / "global-hooks")
GLOBAL = FOUND.global_
GLOBAL_SCHEMAS = Schemas.load(GLOBAL.config_schema, GLOBAL.values_schema, owner="global")
GLOBAL_VALUES = compose(GLOBAL.static_values, GLOBAL_SCHEMAS, None, [], GLOBAL_KEY)


def module(name: str) -> ModuleDef:
    found = FOUND.module(name)
    assert found is not None, name
    return found


def schemas(m: ModuleDef) -> Schemas:
    return Schemas.load(m.config_schema, m.values_schema, owner=f"module {m.name}")


def spec(path: Path, kind: HookKind, module_name: str | None = None) -> HookSpec:
    root = path.parents[1] if kind == "module" else GLOBAL.hooks_dir
    assert root is not None
    config = load_hook_config(path, kind=kind, module_name=module_name)
    return HookSpec(str(path.relative_to(root)), path, config)


def run(hook: HookSpec, binding: str, kind: HookKind, doc: dict[str, Any], key: str | None,
        tmp_path: Path) -> HookResult:
    result = run_hook(
        hook, lifecycle_contexts(binding, hook.config.version), values=doc,
        config_values={k: {} for k in doc}, kind=kind, module_key=key, tmp_dir=tmp_path, timeout=20,
    )
    assert result.ok, result.message
    return result


def test_hook_configs() -> None:
    configs = {
        f"{m.name}/{h.name}": (h.config.on_startup, h.config.lifecycle)
        for m in FOUND.modules for h in (spec(p, "module", m.name) for p in m.hooks)
    }
    configs.update({
        h.name: (h.config.on_startup, h.config.lifecycle)
        for h in (spec(p, "global") for p in GLOBAL.hooks)
    })
    assert configs == {
        "patched-config/hooks/generate-greeting.sh": (None, {"beforeHelm": 10}),
        "python-hook/hooks/count_words.py": (10, {"beforeHelm": 10, "afterHelm": 10}),
        "hooks-only/hooks/lifecycle.sh": (5, {"beforeHelm": 5}),
        "before-all.sh": (None, {"beforeAll": 1}),
        "startup.sh": (1, {}),
    }


@pytest.mark.parametrize(
    ("name", "binding", "expected"),
    [
        ("patched-config", "beforeHelm", {"greeting": "Hello, sandbox!"}),
        ("python-hook", "onStartup", {"wordCount": 0, "words": []}),
        ("python-hook", "beforeHelm", {
            "wordCount": 8,
            "words": ["brown", "dog", "fox", "jumps", "lazy", "over", "quick", "the"],
        }),
        ("hooks-only", "onStartup", {"lastBinding": "onStartup"}),
        ("hooks-only", "beforeHelm", {"lastBinding": "beforeHelm"}),
    ],
)
def test_module_hook_patches(name: str, binding: str, expected: dict[str, Any], tmp_path: Path) -> None:
    m = module(name)
    (path,) = m.hooks
    doc = helm_values(GLOBAL_VALUES, m.key, compose(m.static_values, schemas(m), None, [], m.key))
    result = run(spec(path, "module", m.name), binding, "module", doc, m.key, tmp_path)
    after = result.patched_values or doc
    assert after[m.key]["internal"] == expected
    assert validate_values(after[m.key], schemas(m), f"module {name}", key=m.key) == []


@pytest.mark.parametrize(
    ("hook", "binding", "expected"),
    [
        ("startup.sh", "onStartup", {"startupHookRan": True}),
        ("before-all.sh", "beforeAll", {"baseDomain": "sandbox.example.test"}),
    ],
)
def test_global_hook_patches(hook: str, binding: str, expected: dict[str, Any], tmp_path: Path) -> None:
    assert GLOBAL.hooks_dir is not None
    doc = {GLOBAL_KEY: GLOBAL_VALUES}
    result = run(spec(GLOBAL.hooks_dir / hook, "global"), binding, "global", doc, None, tmp_path)
    assert result.patched_values is not None
    after = result.patched_values[GLOBAL_KEY]
    assert after["internal"] == expected
    assert validate_values(after, GLOBAL_SCHEMAS, "global", key=GLOBAL_KEY) == []


def test_patched_config_renders_once_its_hook_has_run(tmp_path: Path) -> None:
    m = module("patched-config")
    settings = {"greeting": "Hi", "repeat": 2}
    doc = helm_values(GLOBAL_VALUES, m.key, compose(m.static_values, schemas(m), settings, [], m.key))
    result = run(spec(m.hooks[0], "module", m.name), "beforeHelm", "module", doc, m.key, tmp_path)
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(result.patched_values))
    chart = prepare_chart(m.path, m.name, tmp_path / "charts")
    rendered = HelmClient("addons", home=tmp_path / "helm").render(m.name, chart, values_file)
    assert 'greeting: "Hi, sandbox! Hi, sandbox!"' in rendered
