"""Running a hook for real: the file/env contract hooks written for addon-operator rely on.

The runtime calls `run_hook` for every hook run (lifecycle steps, schedules, kubernetes events)
with the rendered binding contexts (`hooks.contexts`) and the values documents. One run:

1. writes, under `tmp_dir`, the binding context, `$VALUES_PATH` and `$CONFIG_VALUES_PATH`
   documents and creates empty output files, with upstream's file names;
2. starts the hook with no arguments, cwd = the hook's directory, env = the operator's env plus
   the seven `*_PATH` variables addon-operator sets for global and module hooks alike (module
   `*.py` hooks run as `hooks/venv/bin/python3 <hook>` with `PYTHONHOME` when that venv exists),
   under a timeout that kills the hook's whole process group;
3. only after exit code 0, reads the outputs: a non-empty config values patch fails the run
   (the operator never writes spec: docs/hooks.md, Config values patches are refused); the
   values patch is parsed, checked against the hook's rules and applied strictly to a copy of
   the values; the metric operations are parsed and validated; the kubernetes patch operations
   are returned as raw text for their parser; any problem fails the run and nothing of it is
   returned;
4. removes the files unless `keep_tmp_files`.

Nothing is stored here: the caller validates `patched_values` against the schema, stores
`values_ops`, applies `enabled_ops`, hands `metrics` to `HookMetrics.apply` and records the
result in the hook's status.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import runner as runner_module
from ..metrics import MetricsError, parse_metrics_stream
from ..runner import Completed, Runner, Usage
from ..values import (
    GLOBAL_KEY,
    PatchError,
    apply_patch,
    check_global_patch,
    check_module_patch,
    enabled_patch_values,
    parse_patch_stream,
)
from .config_model import HookConfig
from .config_schema import HookKind
from .contexts import dumps_contexts
from .interpreter import hook_argv

log = logging.getLogger(__name__)

BINDING_CONTEXT_PATH = "BINDING_CONTEXT_PATH"
VALUES_PATH = "VALUES_PATH"
CONFIG_VALUES_PATH = "CONFIG_VALUES_PATH"
VALUES_JSON_PATCH_PATH = "VALUES_JSON_PATCH_PATH"
CONFIG_VALUES_JSON_PATCH_PATH = "CONFIG_VALUES_JSON_PATCH_PATH"
METRICS_PATH = "METRICS_PATH"
KUBERNETES_PATCH_PATH = "KUBERNETES_PATCH_PATH"
OUTPUT_VARS = (
    VALUES_JSON_PATCH_PATH, CONFIG_VALUES_JSON_PATCH_PATH, METRICS_PATH, KUBERNETES_PATCH_PATH
)

STDERR_TAIL_LINES = 10

CONFIG_PATCH_REFUSED = (
    f"${CONFIG_VALUES_JSON_PATCH_PATH} is not supported: config values are the settings in the "
    "Module/GlobalConfig spec, which belongs to its owner (the user or Git) and is never written "
    "by the operator. Use ${VALUES_JSON_PATCH_PATH} for values the module computes, or keep "
    f"state that must survive restarts in a Secret written through ${KUBERNETES_PATCH_PATH}"
)


@dataclass(frozen=True)
class HookSpec:
    """One discovered hook, configured.

    `name` is upstream's hook name: for a module hook the path from the module directory,
    starting at `hooks/` (`hooks/https/copy_cert.py`); for a global hook the path relative to the
    global hooks directory (`hook.sh`). `path` is the executable, which must end with `name`.
    """

    name: str
    path: Path
    config: HookConfig

    def __post_init__(self) -> None:
        name_parts = Path(self.name).parts
        if not name_parts or self.path.parts[-len(name_parts):] != name_parts:
            raise ValueError(
                f"hook {self.path}: its name {self.name!r} must be the end of its path"
            )

    @property
    def root(self) -> Path:
        """The directory `name` is relative to: the module directory or the global hooks dir."""
        return self.path.parents[len(Path(self.name).parts) - 1]

    @property
    def safe_name(self) -> str:
        """The name as a file-name fragment (`hooks/a b.sh` → `hooks-a-b.sh`)."""
        return re.sub(r"[^A-Za-z0-9.-]+", "-", self.name).strip("-") or "hook"


@dataclass(frozen=True)
class HookResult:
    """What one run did. On failure every output field is empty: nothing is to be applied.

    `ok` False with `allowed_failure` True: the run failed but the binding has `allowFailure`,
    so the caller counts it as `AllowedFailure` and carries on. `exit_code` is None when the hook
    could not be started (its files could not be written). `values_ops` are checked and known
    to apply; `patched_values` is the values document after them (None when there were none);
    `enabled_ops` (global hooks) maps `<moduleKey>` to True/False, or None for a removed flag.
    `metrics` are the validated `$METRICS_PATH` operations; `kube_patch_ops_text` is the raw
    `$KUBERNETES_PATCH_PATH` content. `usage` is the hook process's CPU time and peak memory
    (None when it was not started, or the runner did not measure it), failed runs included.
    """

    ok: bool
    allowed_failure: bool
    exit_code: int | None
    timed_out: bool
    duration: float
    stderr_tail: str
    message: str
    values_ops: list[dict[str, Any]] = field(default_factory=list)
    patched_values: dict[str, Any] | None = None
    enabled_ops: dict[str, bool | None] = field(default_factory=dict)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    kube_patch_ops_text: str = ""
    usage: Usage | None = None


@dataclass(frozen=True)
class HookFiles:
    """The files of one run, by the environment variable that names each."""

    paths: dict[str, Path]

    @classmethod
    def create(
        cls,
        tmp_dir: Path,
        hook: HookSpec,
        owner: str,
        contexts: list[dict[str, Any]],
        values: Mapping[str, Any],
        config_values: Mapping[str, Any],
    ) -> HookFiles:
        """Write the inputs and create empty outputs; names follow upstream's patterns."""
        run_id = uuid.uuid4().hex
        safe = hook.safe_name
        paths = {
            BINDING_CONTEXT_PATH: f"{owner}.module-hook-{safe}-binding-context-{run_id}.json",
            VALUES_PATH: f"{owner}.module-values-{run_id}.json",
            CONFIG_VALUES_PATH: f"{owner}.module-config-values-{run_id}.json",
            VALUES_JSON_PATCH_PATH: f"{safe}.module-hook-values-{run_id}.json-patch",
            CONFIG_VALUES_JSON_PATCH_PATH: f"{safe}.module-hook-config-values-{run_id}.json-patch",
            METRICS_PATH: f"{safe}.module-hook-metrics-{run_id}.json",
            KUBERNETES_PATCH_PATH: f"{safe}-object-patch-{run_id}",
        }
        files = cls({var: tmp_dir / name for var, name in paths.items()})
        tmp_dir.mkdir(parents=True, exist_ok=True)
        contents = {
            BINDING_CONTEXT_PATH: dumps_contexts(contexts),
            VALUES_PATH: _json(values),
            CONFIG_VALUES_PATH: _json(config_values),
        }
        try:
            for var, path in files.paths.items():
                path.write_text(contents.get(var, ""), encoding="utf-8")
        except OSError:
            files.remove()
            raise
        return files

    def env(self) -> dict[str, str]:
        return {var: str(path) for var, path in self.paths.items()}

    def read(self, var: str) -> str:
        return self.paths[var].read_text(encoding="utf-8", errors="replace")

    def remove(self) -> None:
        for path in self.paths.values():
            path.unlink(missing_ok=True)


def _json(document: Mapping[str, Any]) -> str:
    # default=str: a YAML timestamp in static values reaches the hook as its text.
    return json.dumps(document, ensure_ascii=False, default=str)


def hook_command(
    hook: HookSpec, kind: HookKind, env: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """argv and env of a run (see `interpreter.hook_argv` for the venv rule)."""
    return hook_argv(hook.path, kind=kind, hooks_dir=hook.root / "hooks", env=env)


def run_hook(
    hook: HookSpec,
    contexts: list[dict[str, Any]],
    *,
    values: Mapping[str, Any],
    config_values: Mapping[str, Any],
    kind: HookKind,
    module_key: str | None,
    tmp_dir: Path,
    timeout: float,
    runner: Runner = runner_module.run,
    env: Mapping[str, str] | None = None,
    allow_failure: bool = False,
    keep_tmp_files: bool = False,
) -> HookResult:
    """Run `hook` once with `contexts` (already rendered for its config version).

    `values` / `config_values` are the documents the hook reads, shaped as upstream: global
    hooks `{"global": ...}`, module hooks `{"global": ..., "<module_key>": ...}`. `env` is the
    operator's environment (default: this process's). `allow_failure` is the binding's
    `allowFailure` (the caller passes False for lifecycle bindings, as upstream forces).
    Never raises for anything the hook does; raises ValueError for a call that breaks the
    contract (wrong document shape, module hook without `module_key`).
    """
    owner = _check_call(kind, module_key, values, config_values, hook)
    try:
        files = HookFiles.create(tmp_dir, hook, owner, contexts, values, config_values)
    except OSError as err:
        message = f"cannot write the hook's files in {tmp_dir}: {err}"
        return _failed(allow_failure, message, None)
    try:
        argv, run_env = hook_command(hook, kind, {**_operator_env(env), **files.env()})
        completed = runner(argv, env=run_env, cwd=str(hook.path.parent), timeout=timeout)
        _log_output(hook, completed)
        if not completed.ok:
            return _failed_run(completed, timeout, allow_failure)
        return _with_outputs(completed, files, kind, owner, values, allow_failure)
    finally:
        if not keep_tmp_files:
            files.remove()


def _check_call(
    kind: HookKind,
    module_key: str | None,
    values: Mapping[str, Any],
    config_values: Mapping[str, Any],
    hook: HookSpec,
) -> str:
    """The owner part of the file names; ValueError when the documents have the wrong shape."""
    if kind == "module" and not module_key:
        raise ValueError(f"hook {hook.path}: a module hook needs its module_key")
    owner = GLOBAL_KEY if kind == "global" else str(module_key)
    expected = {GLOBAL_KEY, owner}
    for label, document in (("values", values), ("config_values", config_values)):
        if set(document) != expected:
            raise ValueError(
                f"hook {hook.path}: {label} must have exactly the keys {sorted(expected)}, "
                f"got {sorted(document)}"
            )
    return owner


def _operator_env(env: Mapping[str, str] | None) -> dict[str, str]:
    return dict(os.environ if env is None else env)


def _log_output(hook: HookSpec, completed: Completed) -> None:
    for stream, text in (("stdout", completed.stdout), ("stderr", completed.stderr)):
        for line in text.splitlines():
            log.debug("hook %s %s: %s", hook.name, stream, line)


def _failed(allow_failure: bool, message: str, completed: Completed | None) -> HookResult:
    """A failed run (`completed` None: the hook was not started); nothing to apply."""
    return HookResult(
        ok=False,
        allowed_failure=allow_failure,
        exit_code=completed.exit_code if completed else None,
        timed_out=completed.timed_out if completed else False,
        duration=completed.seconds if completed else 0.0,
        stderr_tail=completed.stderr_tail(STDERR_TAIL_LINES) if completed else "",
        message=message,
        usage=completed.usage if completed else None,
    )


def _failed_run(completed: Completed, timeout: float, allow_failure: bool) -> HookResult:
    tail = completed.stderr_tail(STDERR_TAIL_LINES)
    if completed.timed_out:
        message = f"hook timed out after {timeout:g} s and was killed"
        if tail:
            message += f"; stderr:\n{tail}"
    else:
        message = tail or f"exit status {completed.exit_code}"
    return _failed(allow_failure, message, completed)


def _with_outputs(
    completed: Completed,
    files: HookFiles,
    kind: HookKind,
    owner: str,
    values: Mapping[str, Any],
    allow_failure: bool,
) -> HookResult:
    """The result of a run that exited 0: its outputs read and checked, or a failure."""
    try:
        outputs = {var: files.read(var) for var in OUTPUT_VARS}
        values_ops, patched, enabled = check_outputs(
            outputs[VALUES_JSON_PATCH_PATH],
            outputs[CONFIG_VALUES_JSON_PATCH_PATH],
            kind=kind,
            owner=owner,
            values=values,
        )
        metrics = parse_metrics_stream(outputs[METRICS_PATH], source=f"${METRICS_PATH}")
    except (OSError, PatchError, MetricsError) as err:
        return _failed(allow_failure, str(err), completed)
    return HookResult(
        ok=True,
        allowed_failure=False,
        exit_code=completed.exit_code,
        timed_out=False,
        duration=completed.seconds,
        stderr_tail=completed.stderr_tail(STDERR_TAIL_LINES),
        message="",
        values_ops=values_ops,
        patched_values=patched,
        enabled_ops=enabled,
        metrics=metrics,
        kube_patch_ops_text=outputs[KUBERNETES_PATCH_PATH],
        usage=completed.usage,
    )


def check_outputs(
    values_patch_text: str,
    config_patch_text: str,
    *,
    kind: HookKind,
    owner: str,
    values: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, bool | None]]:
    """(values ops, values after them or None, `*Enabled` flags) from a successful run's patch
    files. `owner` is the module key, or `global`. PatchError naming the file and the problem
    when they must not be applied."""
    config_ops = parse_patch_stream(config_patch_text, source=f"${CONFIG_VALUES_JSON_PATCH_PATH}")
    if config_ops:
        raise PatchError(CONFIG_PATCH_REFUSED)
    source = f"${VALUES_JSON_PATCH_PATH}"
    ops = parse_patch_stream(values_patch_text, source=source)
    try:
        if kind == "module":
            check_module_patch(ops, owner)
            values_ops, enabled = ops, {}
        else:
            values_ops, enabled_ops = check_global_patch(ops)
            enabled = enabled_patch_values(enabled_ops)
        if not values_ops:
            return [], None, enabled
        patched = apply_patch(dict(values), values_ops, strict=True)
    except PatchError as err:
        raise PatchError(f"{source}: {err}") from None
    if not isinstance(patched.get(owner), dict):
        raise PatchError(f"{source}: the patch leaves '/{owner}' without an object of values")
    return values_ops, patched, enabled
