"""Lifecycle hook runs: configure hooks, run one binding over them in order, keep the results.

The converge (global `onStartup`, `beforeAll`, `afterAll`), module runs (`onStartup`,
`beforeHelm`, `afterHelm`) and module deletes (`beforeDeleteHelm`, `afterDeleteHelm`) call
`LifecycleHooks`. One binding runs every hook that has it, ordered by its order number then its
name, as upstream (docs/hooks.md, "When hooks run"). Configuring hooks sets their `binding_count`.
After each run the hook's `HookState` and run metrics (duration, CPU, peak memory) are updated and,
in upstream's order, its `$METRICS_PATH` and `$KUBERNETES_PATCH_PATH` operations are applied, then
its values patch is validated against the values schema and stored (global `<moduleKey>Enabled`
patches go to the dynamic enablement step). A failure posts a Warning Event and raises `RunFailed`,
so the rest of the binding does not run.

Global hooks run from the converge (`beforeAll`/`afterAll`) and from binding tasks on any worker
(named queues run in parallel with `main`), so storing a global hook run's result (its counters,
values patches and `<moduleKey>Enabled` flags) holds one lock: concurrent runs would otherwise lose
each other's patches. The hooks themselves run unlocked.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, NoReturn

from addon_operator.hooks import HookConfig, HookConfigError, load_hook_config
from addon_operator.hooks.contexts import ON_STARTUP, lifecycle_contexts
from addon_operator.hooks.execute import HookResult, HookSpec, run_hook
from addon_operator.kube import WARNING
from addon_operator.kubepatch import KubePatchError, PatchClient, apply_operations, parse_operations
from addon_operator.logs import bind
from addon_operator.metrics import HookMetrics, MetricsError, OperatorMetrics
from addon_operator.models import ModuleDef
from addon_operator.runner import Runner, run
from addon_operator.status import HookState
from addon_operator.status import HookResult as Outcome
from addon_operator.status.verdict import HOOK_FAILED, VALUES_INVALID
from addon_operator.values import (
    GLOBAL_KEY, PatchError, Schemas, compact, compose, validate_values,
)

from .errors import RunFailed
from .events import EventRecorder
from .state import GlobalRuntime, ModuleRuntime, RunInputs, RuntimeState

log = logging.getLogger(__name__)

# (hook, its module or None) -> the hook's kubernetes snapshots by binding name
Snapshots = Callable[[HookSpec, "str | None"], dict[str, list[Any]]]

CONFIG_TIMEOUT = 30.0
MAIN_QUEUE = "main"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class LifecycleHooks:
    """Runs lifecycle bindings of global and module hooks for the handlers."""

    def __init__(
        self,
        state: RuntimeState,
        *,
        tmp_dir: Path,
        timeout: float,
        env: Mapping[str, str],
        events: EventRecorder,
        metrics: OperatorMetrics,
        hook_metrics: HookMetrics,
        patcher: PatchClient,
        runner: Runner = run,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._state = state
        self._tmp_dir = tmp_dir
        self._timeout = timeout
        self._env = dict(env)
        self._events = events
        self._metrics = metrics
        self._hook_metrics = hook_metrics
        self._patcher = patcher
        self._snapshots: Snapshots | None = None
        self._runner = runner
        self._now = now
        self._global_lock = threading.RLock()

    # ---- configuration ---------------------------------------------------------------------

    def configure_global(self) -> None:
        """Every global hook's `--config`, at start-up; a HookConfigError (fatal) names the hook."""
        found = self._state.discovery.global_
        specs = []
        for path in found.hooks:
            config = load_hook_config(path, kind="global", module_name=None, runner=self._runner,
                                      env=self._env, timeout=CONFIG_TIMEOUT,
                                      hooks_dir=found.hooks_dir)
            name = str(path.relative_to(found.hooks_dir)) if found.hooks_dir else path.name
            specs.append(HookSpec(name, path, config))
        self._state.global_.hooks = specs
        self._state.global_.status.hooks = {
            s.name: HookState(s.name, tuple(s.config.binding_names())) for s in specs}
        self._count_bindings("", specs)

    def ensure_module_hooks(self, runtime: ModuleRuntime) -> list[HookSpec]:
        """The module's hooks, configured at its first run after start; a broken `--config`
        fails the run (and is retried), as upstream."""
        if runtime.hooks is not None:
            return runtime.hooks
        module = known_module(runtime)
        specs = []
        for path in module.hooks:
            try:
                config = load_hook_config(path, kind="module", module_name=module.name,
                                          runner=self._runner, env=self._env,
                                          timeout=CONFIG_TIMEOUT, hooks_dir=module.path / "hooks")
            except HookConfigError as exc:
                raise RunFailed(HOOK_FAILED, f"module {module.name}: {exc}") from None
            specs.append(HookSpec(str(path.relative_to(module.path)), path, config))
        runtime.hooks = specs
        runtime.status.hooks = {s.name: HookState(s.name, tuple(s.config.binding_names()))
                                for s in specs}
        self._count_bindings(module.name, specs)
        return specs

    def _count_bindings(self, module: str, specs: list[HookSpec]) -> None:
        """`binding_count` of each configured hook (`module` "" for global hooks, as upstream).
        Set once per process, when the hooks are configured, and kept while a module is
        disabled: upstream never clears it either."""
        for spec in specs:
            self._metrics.binding_count.labels(module=module, hook=spec.name).set(
                binding_count(spec.config))

    # ---- runs ------------------------------------------------------------------------------

    def run_global(self, binding: str, activation: str) -> None:
        """Run lifecycle `binding` of every global hook that has it, on one snapshot."""
        inputs = self._state.global_inputs()
        for spec in ordered(self._state.global_.hooks, binding):
            self.run_one(spec, None, inputs, self.lifecycle(spec, None, binding), binding,
                         activation)

    def run_module(self, runtime: ModuleRuntime, inputs: RunInputs, binding: str,
                   activation: str) -> None:
        """Run lifecycle `binding` of every hook of the module that has it (hooks configured),
        on the run's snapshot `inputs`."""
        for spec in ordered(runtime.hooks or [], binding):
            self.run_one(spec, runtime, inputs, self.lifecycle(spec, runtime.name, binding),
                         binding, activation)

    def lifecycle(self, spec: HookSpec, module: str | None, binding: str) -> list[dict[str, Any]]:
        """The rendered contexts of a lifecycle run; `snapshots` carry the hook's kubernetes
        snapshots (`{}` without kubernetes bindings; none for `onStartup`)."""
        snapshots = None if binding == ON_STARTUP else self.snapshots(spec, module)
        return lifecycle_contexts(binding, spec.config.version, snapshots=snapshots)

    def run_one(self, spec: HookSpec, runtime: ModuleRuntime | None, inputs: RunInputs,
                contexts: list[dict[str, Any]], binding: str, activation: str, *,
                allow_failure: bool = False, queue: str = MAIN_QUEUE) -> bool:
        """Run one hook of `runtime` (None: a global hook) on the run's snapshot `inputs` with
        rendered `contexts` and record it; True when it changed the stored values (they are
        added to `inputs` too, for the rest of the run). A failure raises `RunFailed`, unless
        `allow_failure` (the binding's `allowFailure`), which records `AllowedFailure`.
        Global hooks may run at once (named queues); storing their results is serialised
        (see the module docstring)."""
        g = self._state.global_
        owner: ModuleRuntime | GlobalRuntime
        kind: Literal["global", "module"]
        values, config = inputs.documents()
        if runtime is None:
            owner, kind, key, module_name = g, "global", None, None
        else:
            module = known_module(runtime)
            owner, kind, key, module_name = runtime, "module", module.key, module.name
        bind(log, module=module_name, hook=spec.name, binding=binding).debug("running hook")
        result = run_hook(spec, contexts, values=values, config_values=config, kind=kind,
                          module_key=key, tmp_dir=self._tmp_dir, timeout=self._timeout,
                          runner=self._runner, env=self._env, allow_failure=allow_failure)
        with self._global_lock if runtime is None else nullcontext():
            return self._store(spec, runtime, owner, inputs, result, binding, activation,
                               allow_failure, queue)

    def _store(self, spec: HookSpec, runtime: ModuleRuntime | None,
               owner: ModuleRuntime | GlobalRuntime, inputs: RunInputs, result: HookResult,
               binding: str, activation: str, allow_failure: bool, queue: str) -> bool:
        """Record a finished run and keep its values patches and `*Enabled` flags. A module
        hook's patch applies to its run's snapshot; a global hook's to the stored global
        patches (other global hooks may have stored theirs since the snapshot)."""
        g = self._state.global_
        module_name = None if runtime is None else runtime.name
        involved = owner.involved
        state = owner.status.hooks.setdefault(spec.name, HookState(
            spec.name, tuple(spec.config.binding_names())))
        if not self._record(state, spec, binding, activation, result, module_name, involved,
                            allow_failure, queue):
            return False
        before = list(owner.patches)
        run = (state, spec, binding, involved)
        if result.values_ops and runtime is None:
            g.patches = self._checked_patches(
                g.patches, result.values_ops, inputs.global_static, inputs.global_schemas,
                inputs.global_settings, GLOBAL_KEY, "global", run)
            inputs.global_patches = list(g.patches)
        elif result.values_ops and runtime is not None:
            module = known_module(runtime)
            runtime.patches = self._checked_patches(
                inputs.patches, result.values_ops, module.static_values, inputs.schemas,
                inputs.settings, module.key, f"module {module.name}", run)
            inputs.patches = list(runtime.patches)
        self._apply_enabled(result.enabled_ops)
        return owner.patches != before

    def _record(self, state: HookState, spec: HookSpec, binding: str, activation: str,
                result: HookResult, module: str | None, involved: dict[str, Any],
                allow_failure: bool, queue: str) -> bool:
        """Count the run and apply its metrics and Kubernetes operations; True when it
        succeeded. A failure raises `RunFailed` unless it is allowed."""
        ok, message = result.ok, result.message
        if ok and result.metrics:
            try:
                self._hook_metrics.apply(result.metrics, spec.name, module)
            except MetricsError as exc:
                ok, message = False, f"$METRICS_PATH: {exc}"
        if ok and result.kube_patch_ops_text.strip():
            try:
                apply_operations(parse_operations(result.kube_patch_ops_text), self._patcher)
            except KubePatchError as exc:
                ok, message = False, f"$KUBERNETES_PATCH_PATH: {exc}"
        outcome = (Outcome.SUCCEEDED if ok
                   else Outcome.ALLOWED_FAILURE if allow_failure else Outcome.FAILED)
        state.runs += 1
        state.failures += 0 if ok else 1
        state.last_run = self._now()
        state.last_result = outcome
        state.message = "" if ok else message
        state.duration_seconds = result.duration
        usage = result.usage
        self._metrics.record_hook_run(
            module=module, hook=spec.name, binding=binding, queue=queue, activation=activation,
            seconds=state.duration_seconds, result=outcome,
            user_cpu=usage.user_cpu if usage else None, sys_cpu=usage.sys_cpu if usage else None,
            max_rss_bytes=usage.max_rss_bytes if usage else None)
        if not ok and not allow_failure:
            self._fail(spec, binding, involved, message)
        if not ok:
            log.warning("hook %s (%s) failed, allowed by allowFailure: %s", spec.name, binding,
                        message)
        return ok

    def use_snapshots(self, source: Snapshots) -> None:
        """Where lifecycle contexts get kubernetes snapshots from (`BindingRuns.snapshots`)."""
        self._snapshots = source

    def snapshots(self, spec: HookSpec, module: str | None) -> dict[str, list[Any]]:
        """The hook's kubernetes snapshots for a lifecycle context (`{}` without bindings)."""
        if self._snapshots is None or not spec.config.kubernetes:
            return {}
        return self._snapshots(spec, module)

    def _checked_patches(self, stored: list[dict[str, Any]], new: list[dict[str, Any]],
                         static: Mapping[str, Any], schemas: Schemas, settings: Any, key: str,
                         owner: str, run: tuple[HookState, HookSpec, str, dict[str, Any]]
                         ) -> list[dict[str, Any]]:
        """The stored patches after a run's ops, if the values they give pass the schema."""
        patches = compact(stored, new)
        try:
            values = compose(static, schemas, settings, patches, key)
        except PatchError as exc:
            self._reject(*run, str(exc))
        problems = validate_values(values, schemas, owner, key=key)
        if problems:
            self._reject(*run, "; ".join(map(str, problems)))
        return patches

    def _reject(self, state: HookState, spec: HookSpec, binding: str, involved: dict[str, Any],
                problems: str) -> NoReturn:
        """A values patch that breaks the values schema: the run counts as failed."""
        state.failures += 1
        state.last_result = Outcome.FAILED
        state.message = f"values patch breaks the values schema: {problems}"
        self._events.post(involved, WARNING, "HookFailed",
                          f"hook {spec.name} ({binding}): {state.message}")
        raise RunFailed(VALUES_INVALID, f"hook {spec.name} ({binding}): {state.message}")

    def _fail(self, spec: HookSpec, binding: str, involved: dict[str, Any], message: str
              ) -> NoReturn:
        text = f"hook {spec.name} ({binding}) failed: {message}"
        self._events.post(involved, WARNING, "HookFailed", text)
        raise RunFailed(HOOK_FAILED, text)

    def _apply_enabled(self, enabled_ops: Mapping[str, bool | None]) -> None:
        """Global hooks' `<moduleKey>Enabled` patches: the dynamic enablement step."""
        by_key = {m.key: m.name for m in self._state.discovery.modules}
        dynamic = dict(self._state.global_.dynamic_enabled)
        for key, flag in enabled_ops.items():
            name = by_key.get(key)
            if name is None:
                log.warning("a global hook set %sEnabled, but no module has the key %s", key, key)
            elif flag is None:
                dynamic.pop(name, None)
            else:
                dynamic[name] = flag
        self._state.global_.dynamic_enabled = dynamic


def binding_count(config: HookConfig) -> int:
    """Upstream's `BindingsCount()`: one per lifecycle binding the hook has, plus one per
    schedule and per kubernetes binding (webhook bindings are not counted)."""
    lifecycle = len(config.lifecycle) + (config.on_startup is not None)
    return lifecycle + len(config.schedules) + len(config.kubernetes)


def ordered(specs: list[HookSpec], binding: str) -> list[HookSpec]:
    """The hooks having `binding`, by order number then name."""
    def order(spec: HookSpec) -> float | None:
        if binding == ON_STARTUP:
            return spec.config.on_startup
        return spec.config.lifecycle.get(binding)

    having = [(order(s), s.name, s) for s in specs if order(s) is not None]
    return [s for _, _, s in sorted(having, key=lambda item: (item[0], item[1]))]


def known_module(runtime: ModuleRuntime) -> ModuleDef:
    if runtime.module is None:
        raise RunFailed("UnknownModule", f"Module {runtime.name}: no such module on disk")
    return runtime.module


def patch_problem(exc: PatchError, where: str) -> RunFailed:
    """Stored patches that no longer apply to the values (the settings changed under them)."""
    return RunFailed(VALUES_INVALID, f"{where}: stored hook values patches do not apply: {exc}")
