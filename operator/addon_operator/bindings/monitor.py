"""One `kubernetes` binding of one hook: its watches, its objects, its Synchronization and Events.

`engine.HookBindings` creates a `BindingMonitor` per binding when the hook's kubernetes bindings
are enabled and stops it when they are disabled. The monitor:

- resolves `apiVersion`/`kind` through discovery (kind, plural, singular or short name); a kind
  that does not exist yet is reported through `report` and retried, after the delays of the
  operator's one retry policy (`kube.retry.BACKOFF`), until its CRD appears;
- subscribes to one shared stream of the `WatchHub` per source: one per namespace of
  `namespace.nameSelector` (or all namespaces) times one per name of `nameSelector` (a
  `metadata.name` field selector), with the label and field selectors server-side; with
  `namespace.labelSelector` it watches matching Namespaces and adds or drops the per-namespace
  sources as namespaces start or stop matching (their objects enter or leave the snapshot
  without events, as upstream);
- once every initial source has listed, emits one Synchronization request; Events are held
  back ("locked") until the runtime reports that Synchronization done (`unlock()`), those older
  than the Synchronization's run being dropped (`take_synchronization()`);
- emits Event requests for the changes its caches report (`events.py`), filtered by
  `executeHookOnEvent`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Protocol

from addon_operator.hooks.config_model import KubernetesBinding, field_selector_query
from addon_operator.hooks.contexts import Item
from addon_operator.kube import (
    ADDED, DELETED, NAMESPACES, RELIST, SYNC, KubeError, Resource, WatchEvent,
)
from addon_operator.kube.retry import BACKOFF

from .events import (
    Change, ObjectCache, event_context, sorted_items, synchronization_context,
)
from .hub import WatchHub, WatchKey
from .jqfilter import ObjectFilter
from .requests import Emit, HookRef, Report, RunRequest

log = logging.getLogger(__name__)

Cancel = Callable[[], None]
CallLater = Callable[[float, Callable[[], None]], Cancel]


class Resolver(Protocol):
    """The part of `KubeClient` that finds a resource type by kind or name."""

    def resolve_kind(self, api_version: str | None, kind_or_plural: str) -> Resource: ...


def call_later(delay: float, action: Callable[[], None]) -> Cancel:
    """Run `action` in `delay` seconds on a daemon timer thread; returns its cancel function."""
    timer = threading.Timer(delay, action)
    timer.daemon = True
    timer.start()
    return timer.cancel


class BindingMonitor:
    """The watches and objects of one kubernetes binding (thread-safe; see the module doc)."""

    def __init__(
        self,
        hook: HookRef,
        binding: KubernetesBinding,
        *,
        hub: WatchHub,
        resolver: Resolver,
        emit: Emit,
        report: Report,
        next_serial: Callable[[], int],
        later: CallLater = call_later,
    ) -> None:
        self.hook = hook
        self.binding = binding
        self._hub = hub
        self._resolver = resolver
        self._emit = emit
        self._report = report
        self._next_serial = next_serial
        self._later = later
        self._filter = ObjectFilter(binding.jq_filter)
        self._lock = threading.RLock()
        self._resource: Resource | None = None
        self._caches: dict[WatchKey, ObjectCache] = {}
        self._pending: set[WatchKey] = set()   # sources whose first list has not come yet
        self._namespace_key: WatchKey | None = None
        self._namespaces: set[str] | None = None  # matching namespaces (dynamic only)
        self._held: list[RunRequest] = []
        self._failing: set[str] = set()           # what is reported as broken right now
        self._resolve_failures = 0
        self._cancel_retry: Cancel | None = None
        self.sync_emitted = False
        self.synchronized = False
        self.stopped = False

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Resolve the kind and subscribe to the sources (retried later when the kind is
        unknown)."""
        with self._lock:
            self._cancel_retry = None
            if self.stopped or self._resource is not None:
                return
            binding = self.binding
            try:
                resource = self._resolver.resolve_kind(binding.api_version or None, binding.kind)
            except KubeError as exc:
                self._resolve_failures += 1
                delay = BACKOFF.delay(self._resolve_failures, exc)
                version = f" in {binding.api_version}" if binding.api_version else ""
                self._problem("kind", f"kind {binding.kind!r}{version} is not served by the API: "
                                      f"{exc.message}", retry_in=delay)
                self._cancel_retry = self._later(delay, self.start)
                return
            self._solved("kind")
            self._resource = resource
            label_selector = self.binding.namespace.label_selector
            if label_selector is not None and resource.namespaced:
                self._namespace_key = WatchKey(NAMESPACES, None, label_selector.to_query())
                self._hub.subscribe(self._namespace_key, self)
            else:
                names = self.binding.namespace.match_names if resource.namespaced else ()
                self._add_sources(names or (None,))

    def stop(self) -> None:
        """Unsubscribe from every stream; no request is emitted afterwards."""
        with self._lock:
            self.stopped = True
            if self._cancel_retry is not None:
                self._cancel_retry()
            keys = list(self._caches)
            if self._namespace_key is not None:
                keys.append(self._namespace_key)
            self._caches.clear()
            self._held.clear()
        for key in keys:
            self._hub.unsubscribe(key, self)

    # ---- what the engine asks at run time --------------------------------------------------

    def snapshot(self) -> list[Item]:
        """The binding's objects now, sorted as upstream sorts snapshots."""
        with self._lock:
            entries = [e for cache in self._caches.values() for e in cache.entries.values()]
            return sorted_items(entries,
                                keep_full_objects=self.binding.keep_full_objects_in_memory)

    def take_synchronization(self) -> list[Item]:
        """The objects for the Synchronization run about to start; held Events up to now are
        already in them and are dropped."""
        with self._lock:
            self._held.clear()
            return self.snapshot()

    def unlock(self) -> None:
        """The Synchronization succeeded: release held Events, then emit Events as they come."""
        with self._lock:
            if self.synchronized or self.stopped:
                return
            self.synchronized = True
            held, self._held = self._held, []
            for request in held:
                self._emit(request)

    # ---- hub consumer ----------------------------------------------------------------------

    def on_watch_event(self, key: WatchKey, event: WatchEvent) -> None:
        with self._lock:
            if self.stopped:
                return
            self._solved(key.describe())
            if key == self._namespace_key:
                self._on_namespace_event(event)
            else:
                cache = self._caches.get(key)
                if cache is None:
                    return
                for change in cache.apply(event):
                    self._on_change(change)
                if cache.listed:
                    self._pending.discard(key)
            self._maybe_synchronize()

    def on_watch_error(self, key: WatchKey, message: str) -> None:
        with self._lock:
            if not self.stopped:
                self._problem(key.describe(), message)

    # ---- internals (lock held) -------------------------------------------------------------

    def _add_sources(self, namespaces: Iterable[str | None]) -> None:
        assert self._resource is not None
        binding = self.binding
        labels = binding.label_selector.to_query() if binding.label_selector else ""
        fields = field_selector_query(binding.field_selector)
        names = [f"metadata.name={name}" for name in dict.fromkeys(binding.name_selector)]
        for namespace in namespaces:
            for by_name in names or [""]:
                key = WatchKey(self._resource, namespace, labels,
                               ",".join(part for part in (fields, by_name) if part))
                if key in self._caches:
                    continue
                self._caches[key] = ObjectCache(
                    binding, self._filter, api_version=self._resource.api_version,
                    kind=self._resource.kind, on_error=self._filter_failed)
                self._pending.add(key)
                self._hub.subscribe(key, self)

    def _drop_sources(self, namespace: str) -> None:
        for key in [k for k in self._caches if k.namespace == namespace]:
            del self._caches[key]
            self._pending.discard(key)
            self._hub.unsubscribe(key, self)

    def _on_namespace_event(self, event: WatchEvent) -> None:
        if event.type in (SYNC, RELIST):
            listed = {str((ns.get("metadata") or {}).get("name")) for ns in event.items}
            known = self._namespaces or set()
            for gone in known - listed:
                self._drop_sources(gone)
            self._add_sources(sorted(listed - known))
            self._namespaces = listed
            return
        if self._namespaces is None:
            return
        name = str((event.object.get("metadata") or {}).get("name"))
        if event.type == ADDED and name not in self._namespaces:
            self._namespaces.add(name)
            self._add_sources([name])
        elif event.type == DELETED and name in self._namespaces:
            self._namespaces.discard(name)
            self._drop_sources(name)

    def _maybe_synchronize(self) -> None:
        ready = self._namespace_key is None or self._namespaces is not None
        if self.sync_emitted or self._pending or not ready or self._resource is None:
            return
        self.sync_emitted = True
        binding = self.binding
        self._emit(RunRequest(
            self.hook, binding.name, binding.queue, synchronization_context(binding),
            allow_failure=binding.allow_failure,
            run_hook=binding.execute_hook_on_synchronization,
            wait=binding.waits_for_synchronization, group=binding.group,
            synchronization=True, serial=self._next_serial()))

    def _on_change(self, change: Change) -> None:
        binding = self.binding
        if change.watch_event not in binding.execute_hook_on_event:
            return
        request = RunRequest(self.hook, binding.name, binding.queue,
                             event_context(binding, change), allow_failure=binding.allow_failure,
                             group=binding.group, serial=self._next_serial())
        if self.synchronized:
            self._emit(request)
        else:
            self._held.append(request)

    def _filter_failed(self, message: str) -> None:
        log.warning("%s binding %s: %s", self.hook.describe(), self.binding.name, message)
        self._report(self.hook, self.binding.name, message)

    def _problem(self, what: str, message: str, *, retry_in: float | None = None) -> None:
        """Log and report a problem; the retry delay is logged only, so the reported message
        (shown in the hook's status) stays the same from one retry to the next."""
        retry = f"; retrying in {retry_in:.1f}s" if retry_in is not None else ""
        log.warning("%s binding %s: %s%s", self.hook.describe(), self.binding.name, message, retry)
        self._failing.add(what)
        self._report(self.hook, self.binding.name, message)

    def _solved(self, what: str) -> None:
        if what in self._failing:
            self._failing.discard(what)
            if not self._failing:
                self._report(self.hook, self.binding.name, None)
