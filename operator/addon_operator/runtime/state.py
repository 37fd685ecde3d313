"""What the runtime remembers between tasks: per-module and global state, and pending requests.

The controllers write the users' side (spec settings, `enabled`, `suspend`, generation) and ask
for work with `request()`; the converge, module-run and module-delete handlers read it, store
hook values patches and fill the `ModuleState` / `GlobalState` the status writer renders.

A run works on one snapshot: `module_inputs()` / `global_inputs()` take (generation, settings,
global settings and patches, stored patches) once, at the start of a run, into `RunInputs`;
every hook of the run and its Helm render compose their values from it, and only the run's own
values patches are added to it as its hooks store them. A spec change during a run therefore
never mixes into it: the run finishes on its snapshot and the change's own run follows.
Values are composed from the last *good* settings: `take_settings` checks `spec.settings`
against the config schema when the controllers apply a spec, and invalid settings only reach
the status (docs/crd-reference.md, "SettingsValid"): hooks, enabled scripts and Helm keep
seeing the last good values.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

from addon_operator.hooks.execute import HookSpec
from addon_operator.models import Discovery, ModuleDef
from addon_operator.status import GlobalState, ModuleState
from addon_operator.values import (
    GLOBAL_KEY,
    Schemas,
    SchemaError,
    compose,
    config_values,
    helm_values,
    validate_settings,
)

Values = dict[str, Any]
Op = dict[str, Any]


@dataclass
class ModuleRuntime:
    """One Module object and, when it exists on disk, its module."""

    name: str
    module: ModuleDef | None               # None: a Module object with no module on disk
    status: ModuleState
    schemas: Schemas = field(default_factory=Schemas)
    schema_error: str | None = None        # the module's openapi files are broken
    settings: Values | None = None         # spec.settings as written (checked for the status)
    good_settings: Values | None = None    # the last spec.settings that passed the schema
    spec_enabled: bool | None = None       # spec.enabled
    suspend: bool = False                  # spec.suspend
    generation: int = 0                    # metadata.generation last seen
    uid: str = ""
    patches: list[Op] = field(default_factory=list)   # stored hook values patches
    hooks: list[HookSpec] | None = None    # configured at the first run after start
    startup_due: bool = True               # onStartup runs at the first run after start/enable
    crds_due: bool = True                  # crds/ applied at the first run after start/enable
    bindings_enabled: bool = False         # kubernetes/schedule bindings started (binding_runs)
    written_status: Values | None = None   # the status as last written (or read at start)
    release_checked: bool = False          # status.release was read from Helm since start

    @property
    def involved(self) -> Values:
        """The object reference Events point at."""
        return {"apiVersion": "addon-operator.io/v1alpha1", "kind": "Module",
                "metadata": {"name": self.name, "uid": self.uid}}

    def settings_problems(self) -> list[str]:
        """What is wrong with `settings` (or with the module's openapi files); [] when valid."""
        if self.schema_error is not None:
            return [self.schema_error]
        return _problems(self.settings, self.schemas, f"module {self.name}")


@dataclass
class GlobalRuntime:
    """`GlobalConfig/global` and the global hooks' values."""

    schemas: Schemas
    hooks: list[HookSpec]
    status: GlobalState
    settings: Values | None = None         # spec.settings as written (checked for the status)
    good_settings: Values | None = None    # the last spec.settings that passed the schema
    generation: int = 0
    uid: str = ""
    patches: list[Op] = field(default_factory=list)
    dynamic_enabled: dict[str, bool] = field(default_factory=dict)  # module name -> flag
    written_status: Values | None = None

    @property
    def involved(self) -> Values:
        return {"apiVersion": "addon-operator.io/v1alpha1", "kind": "GlobalConfig",
                "metadata": {"name": "global", "uid": self.uid}}

    def settings_problems(self) -> list[str]:
        """What is wrong with `settings`; [] when valid."""
        return _problems(self.settings, self.schemas, GLOBAL_KEY)


def take_settings(owner: ModuleRuntime | GlobalRuntime, settings: Values | None) -> list[str]:
    """Store a spec's `settings` and return their problems ([] when valid); they become the
    values' settings (`good_settings`) only when they pass the config schema, so invalid ones
    never reach hooks, enabled scripts or Helm. The problems go to the status at once
    (`SettingsValid` is decided when the spec is seen, not when a run gets to it)."""
    owner.settings = settings
    problems = owner.settings_problems()
    if not problems:
        owner.good_settings = settings
    owner.status.settings_problems = problems
    return problems


@dataclass
class RunInputs:
    """What one run works on, taken once at its start (`RuntimeState.module_inputs`,
    `global_inputs`): the generation, the last good settings, the global settings and
    patches, and the stored values patches. The run's hooks add their patches to `patches`
    (module runs) or `global_patches` (global hook runs) as they store them; nothing else
    changes it."""

    generation: int
    global_static: Values
    global_schemas: Schemas
    global_settings: Values | None
    global_patches: list[Op]
    module: ModuleDef | None = None        # None: the inputs of a global hook run
    schemas: Schemas = field(default_factory=Schemas)
    settings: Values | None = None
    patches: list[Op] = field(default_factory=list)

    def global_values(self) -> Values:
        return compose(self.global_static, self.global_schemas, self.global_settings,
                       list(self.global_patches), GLOBAL_KEY)

    def module_values(self) -> Values:
        module = self._module()
        return compose(module.static_values, self.schemas, self.settings, list(self.patches),
                       module.key)

    def documents(self) -> tuple[Values, Values]:
        """($VALUES_PATH, $CONFIG_VALUES_PATH) of the run's hooks (module hooks and enabled
        scripts: `{global, <moduleKey>}`, the first also the document given to Helm)."""
        global_config = config_values(self.global_settings)
        if self.module is None:
            return {GLOBAL_KEY: self.global_values()}, {GLOBAL_KEY: global_config}
        key = self.module.key
        values = helm_values(self.global_values(), key, self.module_values())
        return values, {GLOBAL_KEY: global_config, key: config_values(self.settings)}

    def _module(self) -> ModuleDef:
        if self.module is None:
            raise ValueError("the inputs of a global hook run have no module values")
        return self.module


def _problems(settings: Values | None, schemas: Schemas, owner: str) -> list[str]:
    return [f"{p.path}: {p.message}" for p in validate_settings(settings, schemas, owner)]


@dataclass(frozen=True)
class Request:
    """Work asked for since the last converge: everything (`full`), or some modules.
    `restart` (with `full`): the configuration or the dynamic enablement changed, so a running
    converge stops and starts afresh (the converge restart, `converge`'s docstring); a change of the
    global values by a hook only queues another converge after the running one, as upstream."""

    full: bool = False
    startup: bool = False
    modules: frozenset[str] = frozenset()
    restart: bool = False

    def __bool__(self) -> bool:
        return self.full or bool(self.modules)

    def merged(self, other: Request) -> Request:
        return Request(self.full or other.full, self.startup or other.startup,
                       self.modules | other.modules, self.restart or other.restart)


class RuntimeState:
    """All modules (in run order) and the global part, plus the pending converge request."""

    def __init__(self, discovery: Discovery, global_schemas: Schemas, global_hooks: list[HookSpec],
                 stall_after: int) -> None:
        self.discovery = discovery
        self.stall_after = stall_after
        self.lock = threading.RLock()
        self.global_ = GlobalRuntime(global_schemas, global_hooks,
                                     GlobalState(generation=0, stalled_after=stall_after))
        self.modules: dict[str, ModuleRuntime] = {}
        for module in discovery.modules:
            self.modules[module.name] = self._new_module(module.name, module)
        self._request = Request()

    def _new_module(self, name: str, module: ModuleDef | None) -> ModuleRuntime:
        status = ModuleState(name=name, generation=0, stalled_after=self.stall_after,
                             module_known=module is not None)
        runtime = ModuleRuntime(name, module, status)
        if module is not None:
            status.weight = module.weight
            status.has_chart = module.has_chart
            try:
                runtime.schemas = Schemas.load(module.config_schema, module.values_schema,
                                               owner=f"module {module.name}")
            except SchemaError as exc:
                runtime.schema_error = str(exc)
        return runtime

    def module(self, name: str) -> ModuleRuntime:
        """The runtime of `name`; a Module object without a module on disk gets one too."""
        with self.lock:
            if name not in self.modules:
                self.modules[name] = self._new_module(name, None)
            return self.modules[name]

    def known(self) -> list[ModuleRuntime]:
        """Runtimes of the discovered modules, in run order."""
        return [self.modules[m.name] for m in self.discovery.modules]

    # ---- requests --------------------------------------------------------------------------

    def request(self, request: Request) -> None:
        with self.lock:
            self._request = self._request.merged(request)

    def take_request(self) -> Request:
        with self.lock:
            taken, self._request = self._request, Request()
            return taken

    def restart_requested(self) -> bool:
        """Whether a restarting converge was asked for and not taken yet (a running converge
        checks this to restart: the converge restart, `converge`'s docstring)."""
        with self.lock:
            return self._request.restart

    # ---- snapshots -------------------------------------------------------------------------

    def global_inputs(self) -> RunInputs:
        """The inputs of a global hook run, as they are now (copies: later changes of the
        state do not reach them)."""
        with self.lock:
            g = self.global_
            return RunInputs(g.generation, self.discovery.global_.static_values, g.schemas,
                             copy.deepcopy(g.good_settings), list(g.patches))

    def module_inputs(self, runtime: ModuleRuntime) -> RunInputs:
        """The inputs of one run of `runtime`'s module, as they are now (copies)."""
        module = _known(runtime)
        with self.lock:
            inputs = self.global_inputs()
            inputs.generation = runtime.generation
            inputs.module, inputs.schemas = module, runtime.schemas
            inputs.settings = copy.deepcopy(runtime.good_settings)
            inputs.patches = list(runtime.patches)
            return inputs

    # ---- current values (views over a fresh snapshot) ---------------------------------------

    def global_values(self) -> Values:
        """The global values as of now (the converge compares them around `afterAll`)."""
        return self.global_inputs().global_values()

    def documents_for(self, module: ModuleDef) -> tuple[Values, Values]:
        """`enablement.ValuesFor`: ($VALUES_PATH, $CONFIG_VALUES_PATH) of a discovered module's
        enabled script, as of now."""
        return self.module_inputs(self.modules[module.name]).documents()


def _known(runtime: ModuleRuntime) -> ModuleDef:
    if runtime.module is None:
        raise ValueError(f"Module {runtime.name}: no module of this name was discovered")
    return runtime.module
