"""The normalised result of a hook's `--config`: frozen dataclasses shared by v0 and v1.

`config.parse_hook_config` builds them; the runtime (schedules, kubernetes monitors, binding
contexts, hook status) reads them. Every default is already applied, `group` is already expanded
into `includeSnapshotsFrom`, and `version` tells which binding-context format the hook expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from .crontab import Crontab

EVENT_TYPES = ("Added", "Modified", "Deleted")
MAIN_QUEUE = "main"


@dataclass(frozen=True)
class LabelRequirement:
    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelSelector:
    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[LabelRequirement, ...] = ()

    def to_query(self) -> str:
        """The selector as the API's `labelSelector` query string (`a=b,c in (x,y),!d`)."""
        parts = [f"{key}={value}" for key, value in self.match_labels]
        for req in self.match_expressions:
            if req.operator == "In":
                parts.append(f"{req.key} in ({','.join(req.values)})")
            elif req.operator == "NotIn":
                parts.append(f"{req.key} notin ({','.join(req.values)})")
            elif req.operator == "Exists":
                parts.append(req.key)
            else:
                parts.append(f"!{req.key}")
        return ",".join(parts)


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    operator: str  # normalised: "=" (also written ==, Equals) or "!=" (also NotEquals)
    value: str


def field_selector_query(requirements: tuple[FieldRequirement, ...]) -> str:
    """Field requirements as the API's `fieldSelector` query string (all ANDed)."""
    return ",".join(f"{r.field}{r.operator}{r.value}" for r in requirements)


@dataclass(frozen=True)
class NamespaceSelector:
    """Which namespaces to watch. Both empty: all namespaces.

    When the hook gives a `labelSelector`, its `nameSelector` is dropped (upstream ignores it).
    """

    match_names: tuple[str, ...] = ()
    label_selector: LabelSelector | None = None


@dataclass(frozen=True)
class ScheduleBinding:
    name: str
    crontab: Crontab
    allow_failure: bool = False
    include_snapshots_from: tuple[str, ...] = ()
    queue: str = MAIN_QUEUE
    group: str | None = None


@dataclass(frozen=True)
class KubernetesBinding:
    name: str
    kind: str
    api_version: str = ""
    execute_hook_on_event: tuple[str, ...] = EVENT_TYPES
    # False for every v0 binding: v0 hooks never run for Synchronization.
    execute_hook_on_synchronization: bool = True
    wait_for_synchronization: bool = True
    keep_full_objects_in_memory: bool = True
    name_selector: tuple[str, ...] = ()  # metadata.name values; empty: any name
    label_selector: LabelSelector | None = None
    field_selector: tuple[FieldRequirement, ...] = ()
    namespace: NamespaceSelector = field(default_factory=NamespaceSelector)
    jq_filter: str | None = None
    include_snapshots_from: tuple[str, ...] = ()
    allow_failure: bool = False
    queue: str = MAIN_QUEUE
    group: str | None = None

    @property
    def waits_for_synchronization(self) -> bool:
        """Whether start-up waits for this binding's Synchronization: always in `main`."""
        return self.queue == MAIN_QUEUE or self.wait_for_synchronization


@dataclass(frozen=True)
class HookSettings:
    """Rate limit of the hook's runs; both None means unlimited (upstream: Inf, burst 1)."""

    execution_min_interval: timedelta | None = None
    execution_burst: int | None = None


@dataclass(frozen=True)
class HookConfig:
    version: str  # "v0" or "v1"
    on_startup: float | None = None
    lifecycle: dict[str, float] = field(default_factory=dict)  # e.g. {"beforeHelm": 10.0}
    schedules: tuple[ScheduleBinding, ...] = ()
    kubernetes: tuple[KubernetesBinding, ...] = ()
    # Names of kubernetesValidating/kubernetesMutating/kubernetesCustomResourceConversion
    # bindings: accepted but not served (docs/hooks.md, v1, Webhooks), so the status can say so.
    webhooks: tuple[str, ...] = ()
    settings: HookSettings = field(default_factory=HookSettings)

    def binding_names(self) -> list[str]:
        """Every binding of the hook, each name once, in a stable order (for the status)."""
        names = ["onStartup"] if self.on_startup is not None else []
        names += list(self.lifecycle)
        names += [b.name for b in self.schedules]
        names += [b.name for b in self.kubernetes]
        names += list(self.webhooks)
        return list(dict.fromkeys(names))
