"""`metav1.Condition` lists and the comparison that decides whether a status write is needed.

The Module and GlobalConfig status builders (`module.py`, `global_config.py`) describe their
conditions as `Cond` values; `render()` turns them into the API shape, stamping every condition
with the observed generation and keeping `lastTransitionTime` from the previous status when the
condition's `status` did not change (the apimachinery `SetStatusCondition` rule). A condition
may carry the generation it was decided for: `HooksSucceeded` and `HelmReleased` describe the
last run, whose snapshot can be older than the spec. Because of that
rule, equal inputs give equal outputs, and `status_changed()` lets the runtime skip writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

TRUE = "True"
FALSE = "False"
UNKNOWN = "Unknown"

# Condition types (docs/crd-reference.md).
READY = "Ready"
RECONCILING = "Reconciling"
STALLED = "Stalled"
ENABLED = "Enabled"
SETTINGS_VALID = "SettingsValid"
HOOKS_SUCCEEDED = "HooksSucceeded"
HELM_RELEASED = "HelmReleased"

CONDITION_MESSAGE_LIMIT = 32768   # the CRD's maxLength for a condition message
LINE_LIMIT = 512                  # the top-level one-line `message`

# List fields that the CRDs declare as `x-kubernetes-list-type: map`, with their key.
_LIST_MAP_KEYS = {"conditions": "type", "hooks": "name"}


@dataclass(frozen=True)
class Cond:
    """One condition as a builder decides it, before generation and time are stamped."""

    type: str
    status: str
    reason: str
    message: str
    generation: int | None = None   # the generation it is true for; None: the object's


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, second precision (what metav1.Time serialises to)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def one_line(text: str, limit: int = LINE_LIMIT) -> str:
    """The first non-empty line of `text`, cut to `limit` characters with an ellipsis."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters (multi-line text kept as is)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def previous_conditions(previous: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """The conditions of a previous status dict, by type (malformed entries are ignored)."""
    items = (previous or {}).get("conditions") or []
    return {
        c["type"]: c for c in items if isinstance(c, Mapping) and isinstance(c.get("type"), str)
    }


def render(
    conds: Iterable[Cond],
    *,
    generation: int,
    previous: Mapping[str, Any] | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """The `conditions` list: each condition with `observedGeneration` (its own generation, or
    `generation` when it has none) and a `lastTransitionTime` that only moves when the
    condition's status changes."""
    before = previous_conditions(previous)
    stamp = timestamp(now)
    out = []
    for cond in conds:
        old = before.get(cond.type)
        since = old.get("lastTransitionTime") if old and old.get("status") == cond.status else None
        out.append({
            "type": cond.type,
            "status": cond.status,
            "reason": cond.reason,
            "message": clip(cond.message, CONDITION_MESSAGE_LIMIT),
            "lastTransitionTime": since if isinstance(since, str) and since else stamp,
            "observedGeneration": generation if cond.generation is None else cond.generation,
        })
    return out


def _normalise(value: Any, key: str | None = None) -> Any:
    """A comparable form: list-maps become dicts by their key, so their order is irrelevant."""
    if isinstance(value, Mapping):
        return {k: _normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        map_key = _LIST_MAP_KEYS.get(key or "")
        if map_key and all(isinstance(item, Mapping) and map_key in item for item in value):
            return {item[map_key]: _normalise(item) for item in value}
        return [_normalise(item) for item in value]
    return value


def status_changed(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Whether writing `new` over `old` changes anything. Every field counts (timestamps too);
    only the order of the `conditions` and `hooks` list-maps is ignored, as the API ignores it."""
    if old is None:
        return True
    return bool(_normalise(dict(old)) != _normalise(dict(new)))
