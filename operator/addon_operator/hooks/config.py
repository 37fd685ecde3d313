"""Parsing and normalising a hook's `--config` document into a `HookConfig`.

Pure logic, no processes: `load.load_hook_config` runs the hook and hands its stdout here; tests
and tools call `parse_hook_config` directly. The checks follow upstream's order: the version is
read from `configVersion` (absent: v0), the document is checked against the schema
(`config_schema.py`), then cross-field checks run (crontabs, jq filters, apiVersion, selectors,
settings, `includeSnapshotsFrom`), and `group` is expanded into `includeSnapshotsFrom`. All
problems found in a step are reported together in one `HookConfigError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

import jq
import yaml

from .config_model import (
    EVENT_TYPES,
    MAIN_QUEUE,
    FieldRequirement,
    HookConfig,
    HookSettings,
    KubernetesBinding,
    LabelRequirement,
    LabelSelector,
    NamespaceSelector,
    ScheduleBinding,
)
from .config_schema import (
    LIFECYCLE_KEYS,
    V0_EVENTS,
    HookKind,
    integral_floats_as_ints,
    schema_problems,
)
from .crontab import Crontab, CrontabError, parse_crontab
from .durations import parse_go_duration
from .errors import HookConfigError, format_path

KeyPath = tuple[str | int, ...]
WEBHOOK_KEYS = ("kubernetesValidating", "kubernetesMutating", "kubernetesCustomResourceConversion")
_Binding = TypeVar("_Binding", ScheduleBinding, KubernetesBinding)
_FIELD_OPERATORS = {"=": "=", "==": "=", "Equals": "=", "!=": "!=", "NotEquals": "!="}


def parse_hook_config(
    source: str | Mapping[str, Any], *, hook: str, kind: HookKind
) -> HookConfig:
    """Validate and normalise a config given as text (YAML or JSON) or as a parsed mapping.

    `hook` names the hook file in error messages; `kind` decides the allowed lifecycle keys.
    """
    if kind not in LIFECYCLE_KEYS:
        raise ValueError(f"hook {hook}: unknown hook kind {kind!r} (expected global or module)")
    document = parse_config_text(source, hook=hook) if isinstance(source, str) else source
    if not isinstance(document, Mapping):
        raise HookConfigError(
            hook, [("", f"the config must be a mapping, got {type(document).__name__}")]
        )
    version = _version(document, hook)
    document = integral_floats_as_ints(document)
    problems = schema_problems(document, version, kind)
    if problems:
        raise HookConfigError(hook, problems)
    builder = _Builder(kind)
    config = builder.v1(document) if version == "v1" else builder.v0(document)
    if builder.problems:
        raise HookConfigError(hook, builder.problems)
    return config


def parse_config_text(text: str, *, hook: str) -> Any:
    """YAML (JSON is YAML) to Python data; an error points at the line and column of stdout."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        where = _mark(getattr(exc, "problem_mark", None))
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark:
            problem += f" ({context}{_mark(context_mark)})"
        raise HookConfigError(
            hook, [("", f"--config output is not valid YAML or JSON{where}: {problem}")]
        ) from exc
    if document is None:
        raise HookConfigError(hook, [("", "--config printed no configuration")])
    return document


def _mark(mark: yaml.Mark | None) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def _version(document: Mapping[str, Any], hook: str) -> str:
    if "configVersion" not in document:
        return "v0"
    value = document["configVersion"]
    if value == "v1":
        return "v1"
    if value == "v0":
        message = "'v0' cannot be written: a v0 config is one without configVersion"
    else:
        message = f"value {value!r} is unsupported (supported: 'v1'; omit the key for v0)"
    raise HookConfigError(hook, [("configVersion", message)])


class _Builder:
    """Builds the dataclasses from a schema-valid document, collecting semantic problems."""

    def __init__(self, kind: HookKind) -> None:
        self.kind = kind
        self.problems: list[tuple[str, str]] = []

    def _problem(self, path: KeyPath, message: str) -> None:
        self.problems.append((format_path(path), message))

    # --- v1 -----------------------------------------------------------------------------

    def v1(self, doc: Mapping[str, Any]) -> HookConfig:
        schedules = [
            self._schedule_v1(item, ("schedule", i))
            for i, item in enumerate(doc.get("schedule", []))
        ]
        kubernetes = [
            self._kubernetes_v1(item, ("kubernetes", i))
            for i, item in enumerate(doc.get("kubernetes", []))
        ]
        self._check_includes(doc)
        groups = _group_members(doc)
        return HookConfig(
            version="v1",
            on_startup=_order(doc.get("onStartup")),
            lifecycle=self._lifecycle(doc),
            schedules=tuple(_with_group(b, groups) for b in schedules if b is not None),
            kubernetes=tuple(_with_group(b, groups) for b in kubernetes if b is not None),
            webhooks=tuple(item["name"] for key in WEBHOOK_KEYS for item in doc.get(key, [])),
            settings=self._settings(doc.get("settings")),
        )

    def _schedule_v1(self, item: Mapping[str, Any], path: KeyPath) -> ScheduleBinding | None:
        crontab = self._crontab(item["crontab"], (*path, "crontab"))
        if crontab is None:
            return None
        return ScheduleBinding(
            name=item.get("name") or "schedule",
            crontab=crontab,
            allow_failure=item.get("allowFailure", False),
            include_snapshots_from=_unique(item.get("includeSnapshotsFrom", [])),
            queue=item.get("queue") or MAIN_QUEUE,
            group=item.get("group") or None,
        )

    def _kubernetes_v1(self, item: Mapping[str, Any], path: KeyPath) -> KubernetesBinding | None:
        before = len(self.problems)
        api_version = item.get("apiVersion", "")
        if api_version.count("/") > 1:
            self._problem(
                (*path, "apiVersion"),
                f"invalid apiVersion {api_version!r} (expected 'version' or 'group/version')",
            )
        names = tuple(item.get("nameSelector", {}).get("matchNames", []))
        fields = tuple(
            FieldRequirement(e["field"], _FIELD_OPERATORS[e["operator"]], e["value"])
            for e in item.get("fieldSelector", {}).get("matchExpressions", [])
        )
        if names and any(f.field == "metadata.name" for f in fields):
            self._problem(
                (*path, "fieldSelector"),
                "metadata.name cannot be used together with nameSelector.matchNames",
            )
        events = item.get("executeHookOnEvent", item.get("watchEvent", list(EVENT_TYPES)))
        namespace = item.get("namespace", {})
        ns_labels = self._label_selector(
            namespace.get("labelSelector"), (*path, "namespace", "labelSelector")
        )
        binding = KubernetesBinding(
            name=item.get("name") or "kubernetes",
            kind=item["kind"],
            api_version=api_version,
            execute_hook_on_event=tuple(events),
            execute_hook_on_synchronization=item.get("executeHookOnSynchronization", True),
            wait_for_synchronization=item.get("waitForSynchronization", True),
            keep_full_objects_in_memory=item.get("keepFullObjectsInMemory", True),
            name_selector=names,
            label_selector=self._label_selector(
                item.get("labelSelector"), (*path, "labelSelector")
            ),
            field_selector=fields,
            namespace=NamespaceSelector(
                # Upstream ignores nameSelector when a namespace labelSelector is given.
                match_names=() if ns_labels else tuple(
                    namespace.get("nameSelector", {}).get("matchNames", [])
                ),
                label_selector=ns_labels,
            ),
            jq_filter=self._jq_filter(item.get("jqFilter"), (*path, "jqFilter")),
            include_snapshots_from=_unique(item.get("includeSnapshotsFrom", [])),
            allow_failure=item.get("allowFailure", False),
            queue=item.get("queue") or MAIN_QUEUE,
            group=item.get("group") or None,
        )
        return binding if len(self.problems) == before else None

    def _settings(self, settings: Mapping[str, Any] | None) -> HookSettings:
        if settings is None:
            return HookSettings()
        interval_text = settings["executionMinInterval"]
        try:
            interval = parse_go_duration(interval_text)
        except ValueError as exc:
            self._problem(("settings", "executionMinInterval"), str(exc))
            return HookSettings()
        return HookSettings(
            execution_min_interval=interval, execution_burst=settings["executionBurst"]
        )

    def _check_includes(self, doc: Mapping[str, Any]) -> None:
        """Each explicit `includeSnapshotsFrom` name must name exactly one kubernetes binding."""
        k8s_names = [item.get("name") or "kubernetes" for item in doc.get("kubernetes", [])]
        for key in ("schedule", "kubernetes", *WEBHOOK_KEYS):
            for i, item in enumerate(doc.get(key, [])):
                for j, name in enumerate(item.get("includeSnapshotsFrom", [])):
                    message = _include_problem(name, k8s_names)
                    if message:
                        self._problem((key, i, "includeSnapshotsFrom", j), message)

    # --- v0 -----------------------------------------------------------------------------

    def v0(self, doc: Mapping[str, Any]) -> HookConfig:
        schedules = []
        for i, item in enumerate(doc.get("schedule", [])):
            crontab = self._crontab(item["crontab"], ("schedule", i, "crontab"))
            if crontab is not None:
                schedules.append(
                    ScheduleBinding(
                        name=item.get("name") or "schedule",
                        crontab=crontab,
                        allow_failure=item.get("allowFailure", False),
                    )
                )
        kubernetes = [
            self._kubernetes_v0(item, ("onKubernetesEvent", i))
            for i, item in enumerate(doc.get("onKubernetesEvent", []))
        ]
        return HookConfig(
            version="v0",
            on_startup=_order(doc.get("onStartup")),
            lifecycle=self._lifecycle(doc),
            schedules=tuple(schedules),
            kubernetes=tuple(b for b in kubernetes if b is not None),
        )

    def _kubernetes_v0(self, item: Mapping[str, Any], path: KeyPath) -> KubernetesBinding | None:
        before = len(self.problems)
        # An absent or empty `event` list means every event type.
        events = tuple(V0_EVENTS[e] for e in item.get("event") or V0_EVENTS)
        ns = item.get("namespaceSelector") or {}
        binding = KubernetesBinding(
            name=item.get("name") or "onKubernetesEvent",
            kind=item["kind"],
            execute_hook_on_event=events,
            execute_hook_on_synchronization=False,
            name_selector=(item["objectName"],) if item.get("objectName") else (),
            label_selector=self._label_selector(item.get("selector"), (*path, "selector")),
            namespace=NamespaceSelector(
                match_names=() if ns.get("any") else tuple(ns.get("matchNames") or ())
            ),
            jq_filter=self._jq_filter(item.get("jqFilter"), (*path, "jqFilter")),
            allow_failure=item.get("allowFailure", False),
        )
        return binding if len(self.problems) == before else None

    # --- shared -------------------------------------------------------------------------

    def _lifecycle(self, doc: Mapping[str, Any]) -> dict[str, float]:
        return {key: float(doc[key]) for key in LIFECYCLE_KEYS[self.kind] if key in doc}

    def _crontab(self, text: str, path: KeyPath) -> Crontab | None:
        try:
            return parse_crontab(text)
        except CrontabError as exc:
            self._problem(path, f"invalid crontab {text!r}: {exc}")
            return None

    def _jq_filter(self, expr: str | None, path: KeyPath) -> str | None:
        if not expr:
            return None
        try:
            jq.compile(expr)
        except ValueError as exc:
            self._problem(path, f"jq filter {expr!r} does not compile: {_jq_message(exc)}")
        return expr

    def _label_selector(
        self, rules: Mapping[str, Any] | None, path: KeyPath
    ) -> LabelSelector | None:
        if rules is None:
            return None
        requirements = []
        for i, expr in enumerate(rules.get("matchExpressions", [])):
            values = tuple(expr.get("values") or ())
            needs_values = expr["operator"] in ("In", "NotIn")
            if needs_values and not values:
                self._problem((*path, "matchExpressions", i, "values"),
                              f"operator {expr['operator']} needs at least one value")
            elif not needs_values and values:
                self._problem((*path, "matchExpressions", i, "values"),
                              f"operator {expr['operator']} takes no values")
            requirements.append(LabelRequirement(expr["key"], expr["operator"], values))
        return LabelSelector(
            match_labels=tuple(rules.get("matchLabels", {}).items()),
            match_expressions=tuple(requirements),
        )


def _include_problem(name: str, k8s_names: list[str]) -> str | None:
    count = k8s_names.count(name)
    if count == 0:
        known = ", ".join(dict.fromkeys(k8s_names)) or "none"
        return f"no kubernetes binding named {name!r} (kubernetes bindings: {known})"
    if count > 1:
        return f"{count} kubernetes bindings are named {name!r}; it must be unique"
    return None


def _order(value: int | float | None) -> float | None:
    return None if value is None else float(value)


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _group_members(doc: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Group name -> names of the kubernetes bindings in that group (in binding order)."""
    members: dict[str, list[str]] = {}
    for item in doc.get("kubernetes", []):
        if item.get("group"):
            members.setdefault(item["group"], []).append(item.get("name") or "kubernetes")
    return {group: _unique(names) for group, names in members.items()}


def _with_group(binding: _Binding, groups: Mapping[str, tuple[str, ...]]) -> _Binding:
    """The binding with its group's kubernetes bindings merged into `include_snapshots_from`."""
    if binding.group is None:
        return binding
    merged = _unique(binding.include_snapshots_from + groups.get(binding.group, ()))
    return replace(binding, include_snapshots_from=merged)


def _jq_message(exc: ValueError) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else str(exc)
    return first.removeprefix("jq: error: ").rstrip(":")
