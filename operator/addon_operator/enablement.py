"""Which modules are enabled, and who decided (docs/modules.md, Enablement).

Every module is decided in run order (weight, then name) by the last step that has an opinion,
lowest to highest precedence:

1. default: disabled (reason `Default`);
2. `<moduleKey>Enabled` in the module's own `values.yaml` (reason `Default`);
3. `<moduleKey>Enabled` in `<modules-dir>/values.yaml` (reason `ModulesValues`);
4. a `<moduleKey>Enabled` patch from a global hook (reason `GlobalHook`);
5. `Module.spec.enabled` (reason `ModuleSpec`);
6. the module's `enabled` script (reason `EnabledScript`): run only when the module is enabled so
   far, it may only disable. It sees `global.enabledModules` = the modules enabled earlier in the
   same pass, in run order, which is how a module depends on another one.

Difference from upstream: a failing `enabled` script (non-zero exit, timeout, a result that is
not `true`/`false`) fails the whole graph pass there. Here only that module's decision carries
the error and the module keeps its previous state: one module never blocks others
(docs/differences.md, Failure isolation and timeouts).

`decide()` is pure: values and the script runner are injected. `EnabledScriptRunner` is the real
runner (files in a tmp dir, the process through `runner.run`), following the upstream contract
(docs/modules.md, "The `enabled` script"). Callers: the `modules` and `render` commands and
the runtime.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from addon_operator import runner
from addon_operator.models import Discovery, ModuleDef

Values = dict[str, Any]


class Reason(StrEnum):
    """The step that decided a module's enablement (the `Enabled` condition's reason)."""

    DEFAULT = "Default"
    MODULES_VALUES = "ModulesValues"
    GLOBAL_HOOK = "GlobalHook"
    MODULE_SPEC = "ModuleSpec"
    ENABLED_SCRIPT = "EnabledScript"


@dataclass(frozen=True)
class Decision:
    """The enablement of one module: the verdict, the deciding step and a human line."""

    module: str
    enabled: bool
    reason: str
    message: str
    script_reason: str | None = None  # what the enabled script wrote to MODULE_ENABLED_REASON
    error: str | None = None          # the enabled script failed; `enabled` is the previous state


@dataclass(frozen=True)
class ScriptResult:
    """What an `enabled` script said: a verdict (and its reason text), or an error."""

    enabled: bool | None
    reason: str | None = None
    error: str | None = None


# (module) -> (values, config values), both shaped {"global": ..., "<moduleKey>": ...}.
ValuesFor = Callable[[ModuleDef], tuple[Values, Values]]
# (module, values with global.enabledModules, config values) -> the script's result.
ScriptRunner = Callable[[ModuleDef, Values, Values], ScriptResult]


def decide(
    discovery: Discovery,
    *,
    specs: Mapping[str, bool | None],
    dynamic: Mapping[str, bool],
    values_for: ValuesFor,
    run_script: ScriptRunner | None,
    previous: Mapping[str, bool] | None = None,
) -> list[Decision]:
    """Decide every discovered module, in run order.

    `specs` and `dynamic` are keyed by module name: `Module.spec.enabled` (None = unset) and the
    global hooks' `<moduleKey>Enabled` patches. `run_script` None skips the script step (no
    opinion). `previous` is the last known state, kept by a module whose script fails.
    """
    decisions: list[Decision] = []
    enabled_so_far: list[str] = []
    for module in discovery.modules:
        decision = _static_decision(module, specs.get(module.name), dynamic.get(module.name))
        if decision.enabled and module.enabled_script is not None and run_script is not None:
            values, config_values = values_for(module)
            values = copy.deepcopy(values)
            values.setdefault("global", {})["enabledModules"] = list(enabled_so_far)
            result = run_script(module, values, config_values)
            was = (previous or {}).get(module.name, False)
            decision = _after_script(decision, result, was)
        if decision.enabled:
            enabled_so_far.append(module.name)
        decisions.append(decision)
    return decisions


def _static_decision(module: ModuleDef, spec: bool | None, dynamic: bool | None) -> Decision:
    """Steps 1-5: the last step with an opinion wins."""
    flag = f"{module.key}Enabled"
    steps: list[tuple[bool | None, Reason, str]] = [
        (module.default_enabled, Reason.DEFAULT, f"by {flag} in the module's values.yaml"),
        (
            module.modules_values_enabled,
            Reason.MODULES_VALUES,
            f"by {flag} in the modules directory values.yaml",
        ),
        (dynamic, Reason.GLOBAL_HOOK, f"by a global hook ({flag} patch)"),
        (spec, Reason.MODULE_SPEC, "by Module spec.enabled"),
    ]
    decided = Decision(module.name, False, Reason.DEFAULT, f"disabled by default: nothing sets {flag}")
    for value, reason, source in steps:
        if value is not None:
            verdict = "enabled" if value else "disabled"
            decided = Decision(module.name, value, reason, f"{verdict} {source}")
    return decided


def _after_script(decision: Decision, result: ScriptResult, previous: bool) -> Decision:
    """Step 6: the script may only disable; its failure keeps the previous state."""
    if result.error is not None:
        kept = "enabled" if previous else "disabled"
        return Decision(
            decision.module,
            previous,
            Reason.ENABLED_SCRIPT,
            f"enabled script failed, keeping the previous state ({kept}): {result.error}",
            error=result.error,
        )
    if result.enabled:
        return Decision(
            decision.module, True, decision.reason, decision.message, script_reason=result.reason
        )
    because = f": {result.reason}" if result.reason else ""
    return Decision(
        decision.module,
        False,
        Reason.ENABLED_SCRIPT,
        f"disabled by the enabled script{because}",
        script_reason=result.reason,
    )


def parse_result(text: str | None, script: Path) -> ScriptResult:
    """The verdict written to MODULE_ENABLED_RESULT: `true` or `false`, whitespace trimmed."""
    if text is None:
        return ScriptResult(None, error=f"{script} did not write true or false to MODULE_ENABLED_RESULT")
    verdict = text.strip()
    if verdict not in ("true", "false"):
        return ScriptResult(
            None, error=f"{script} wrote {verdict!r} to MODULE_ENABLED_RESULT, expected true or false"
        )
    return ScriptResult(verdict == "true")


class EnabledScriptRunner:
    """Runs `enabled` scripts the upstream way: JSON files in, result files out, in a tmp dir.

    The script gets the operator's environment (`base_env`, default the process environment)
    plus VALUES_PATH, CONFIG_VALUES_PATH, MODULE_ENABLED_RESULT and MODULE_ENABLED_REASON, and
    runs in the module directory. The files are removed afterwards.
    """

    def __init__(
        self,
        tmp_dir: Path,
        *,
        run: runner.Runner = runner.run,
        timeout: float | None = 60.0,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        self._tmp_dir = tmp_dir
        self._run = run
        self._timeout = timeout
        self._base_env = base_env

    def __call__(self, module: ModuleDef, values: Values, config_values: Values) -> ScriptResult:
        script = module.enabled_script
        if script is None:
            raise ValueError(f"module {module.name} has no enabled script")
        self._tmp_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"{module.name}.enabled-", dir=self._tmp_dir))
        try:
            files = {
                "VALUES_PATH": work / f"{module.name}.module-values.json",
                "CONFIG_VALUES_PATH": work / f"{module.name}.module-config-values.json",
                "MODULE_ENABLED_RESULT": work / f"{module.name}.module-enabled-result",
                "MODULE_ENABLED_REASON": work / f"{module.name}.module-enabled-reason",
            }
            files["VALUES_PATH"].write_text(json.dumps(values))
            files["CONFIG_VALUES_PATH"].write_text(json.dumps(config_values))
            env = dict(os.environ if self._base_env is None else self._base_env)
            env.update({name: str(path) for name, path in files.items()})
            done = self._run([str(script)], env=env, cwd=str(module.path), timeout=self._timeout)
            if done.timed_out:
                return ScriptResult(None, error=f"{script} timed out after {self._timeout:g}s")
            if not done.ok:
                tail = done.stderr_tail(3)
                detail = f": {tail}" if tail else ""
                return ScriptResult(None, error=f"{script} exited with code {done.exit_code}{detail}")
            result = parse_result(_read(files["MODULE_ENABLED_RESULT"]), script)
            reason = (_read(files["MODULE_ENABLED_REASON"]) or "").strip() or None
            return ScriptResult(result.enabled, reason, result.error)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None
