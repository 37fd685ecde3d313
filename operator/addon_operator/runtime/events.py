"""Kubernetes Events about Module and GlobalConfig objects (Helm actions, hook failures).

The handlers call `EventRecorder.post(...)`; an API error while recording an Event is logged
and swallowed, because an Event must never fail the work it reports on.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from addon_operator.kube import KubeError

log = logging.getLogger(__name__)


class EventPoster(Protocol):
    def post_event(self, involved: dict[str, Any], *, type: str, reason: str, message: str,
                   component: str = ...) -> dict[str, Any]: ...


class EventRecorder:
    """Posts Events through the Kubernetes client, never raising."""

    def __init__(self, kube: EventPoster) -> None:
        self._kube = kube

    def post(self, involved: dict[str, Any], type_: str, reason: str, message: str) -> None:
        try:
            self._kube.post_event(involved, type=type_, reason=reason, message=message[:1024])
        except (KubeError, ValueError) as exc:
            log.warning("cannot record Event %s on %s %s: %s", reason, involved.get("kind"),
                        involved.get("metadata", {}).get("name"), exc)
