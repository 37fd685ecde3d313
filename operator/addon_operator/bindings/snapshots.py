"""Filling binding contexts at run time: Synchronization objects and `snapshots`.

`engine.HookBindings.contexts()` calls `fill_contexts()` right before a hook runs, so every context
sees the objects as they are at that moment (shell-operator's binding-context rules; docs/hooks.md,
"Binding contexts"): each binding's snapshot is read once per run and shared by all contexts of the
run; every name a binding includes is present (`[]` without objects or without a live monitor); a
Synchronization takes its objects from its monitor (dropping Events held back since then); Group
contexts carry only `snapshots`. `lifecycle_snapshots()` gives a hook's full set for
beforeHelm/afterHelm & co.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from addon_operator.hooks.config_model import HookConfig, KubernetesBinding, ScheduleBinding
from addon_operator.hooks.contexts import GROUP, BindingContext, Item

from .combine import compact_groups
from .requests import RunRequest

log = logging.getLogger(__name__)


class SnapshotSource(Protocol):
    """What `fill_contexts` reads; None means the binding has no running monitor."""

    def snapshot(self, binding: str) -> list[Item] | None: ...

    def take_synchronization(self, binding: str) -> list[Item] | None: ...


def includes_of(config: HookConfig) -> dict[str, tuple[str, ...]]:
    """Binding name -> the kubernetes bindings its contexts carry snapshots of."""
    out: dict[str, tuple[str, ...]] = {}
    bindings: tuple[ScheduleBinding | KubernetesBinding, ...] = (
        *config.schedules, *config.kubernetes)
    for binding in bindings:
        out[binding.name] = binding.include_snapshots_from
    return out


def fill_contexts(requests: Sequence[RunRequest], includes: Mapping[str, Sequence[str]],
                  source: SnapshotSource) -> list[BindingContext]:
    """The contexts of `requests` (a combined run, in order), group-compacted, with objects
    and snapshots read now. Every Synchronization among them takes its monitor's objects, even
    one whose context is compacted away, so Events it covers are not replayed later."""
    read: dict[str, list[Item]] = {}
    for request in requests:
        if request.synchronization:
            read[request.binding] = source.take_synchronization(request.binding) or []

    def snapshot(name: str) -> list[Item]:
        if name not in read:
            items = source.snapshot(name)
            if items is None:
                log.error("binding %s has no running monitor: its snapshot is empty", name)
            read[name] = items or []
        return read[name]

    contexts = []
    for request in compact_groups(requests):
        context = request.context
        if request.synchronization and context.type != GROUP:
            context = replace(context, objects=tuple(read[request.binding]))
        names = includes.get(request.binding, ())
        if names or context.type == GROUP:
            context = replace(context, snapshots={name: snapshot(name) for name in names})
        contexts.append(context)
    return contexts


def lifecycle_snapshots(config: HookConfig, source: SnapshotSource) -> dict[str, list[Item]]:
    """Every kubernetes binding's snapshot, for lifecycle contexts (always a map, maybe `{}`)."""
    return {binding.name: source.snapshot(binding.name) or [] for binding in config.kubernetes}
