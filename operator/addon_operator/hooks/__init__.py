"""Hooks: running `hook --config`, validating v0/v1 configs, crontabs, and running hooks.

The engine calls `load_hook_config` for every discovered hook and keeps the `HookConfig`;
the scheduler uses `Crontab.next_after`; the status writer uses `HookConfig.binding_names()`.
"""

from .config import parse_hook_config
from .config_model import (
    FieldRequirement,
    HookConfig,
    HookSettings,
    KubernetesBinding,
    LabelRequirement,
    LabelSelector,
    NamespaceSelector,
    ScheduleBinding,
    field_selector_query,
)
from .crontab import Crontab, CrontabError, parse_crontab
from .durations import parse_go_duration
from .errors import HookConfigError
from .contexts import (
    BindingContext,
    dumps_contexts,
    lifecycle_contexts,
    object_item,
    render_contexts,
)
from .execute import HookResult, HookSpec, run_hook
from .load import load_hook_config

__all__ = [
    "BindingContext",
    "HookResult",
    "HookSpec",
    "dumps_contexts",
    "lifecycle_contexts",
    "object_item",
    "render_contexts",
    "run_hook",
    "Crontab",
    "CrontabError",
    "FieldRequirement",
    "HookConfig",
    "HookConfigError",
    "HookSettings",
    "KubernetesBinding",
    "LabelRequirement",
    "LabelSelector",
    "NamespaceSelector",
    "ScheduleBinding",
    "field_selector_query",
    "load_hook_config",
    "parse_crontab",
    "parse_go_duration",
    "parse_hook_config",
]
