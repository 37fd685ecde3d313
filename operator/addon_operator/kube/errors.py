"""Typed Kubernetes API errors, independent of the HTTP client underneath.

The client (`kube/client.py`) raises these instead of the `kubernetes` package's exceptions so
the rest of the operator (controllers, status writer, hook bindings) catches `NotFound`,
`Conflict` or `Gone` without importing `kubernetes`, and the retry policy (`retryable`) is one
pure predicate. Each error names what was being accessed (`what`, e.g. `modules/foo`).
"""

from __future__ import annotations

import json
from typing import Any

# Status code used for failures that never got an HTTP answer (refused, reset, timed out).
NO_RESPONSE = 0


class KubeError(Exception):
    """An API call failed: HTTP `status` (0 when there was no answer), the API `reason`
    (`NotFound`, `Conflict`, `Expired`, ...) and its `message`."""

    def __init__(
        self, status: int, reason: str, message: str, *, what: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.message = message
        self.what = what
        self.retry_after = retry_after
        prefix = f"{what}: " if what else ""
        super().__init__(f"{prefix}{status} {reason}: {message}")


class NotFound(KubeError):
    """404: the object (or the resource type) does not exist."""


class Conflict(KubeError):
    """409: stale resourceVersion on update, or the object already exists on create."""


class Gone(KubeError):
    """410: the requested resourceVersion is too old; list again."""


_BY_STATUS: dict[int, type[KubeError]] = {404: NotFound, 409: Conflict, 410: Gone}


def error_from_status(status: dict[str, Any], *, what: str = "") -> KubeError:
    """The typed error for a `Status` object (a response body or a watch ERROR event)."""
    code = int(status.get("code") or 500)
    return _BY_STATUS.get(code, KubeError)(
        code,
        str(status.get("reason") or "Unknown"),
        str(status.get("message") or "no message"),
        what=what,
    )


def error_from_response(
    code: int, reason: str, body: bytes, *, what: str = "", retry_after: str | None = None,
) -> KubeError:
    """The typed error for an HTTP error response; the body is a `Status` when it is JSON."""
    try:
        status = json.loads(body) if body else {}
    except ValueError:
        status = {}
    if not isinstance(status, dict):
        status = {}
    text = body.decode(errors="replace").strip()[:500]
    return _BY_STATUS.get(code, KubeError)(
        code,
        str(status.get("reason") or reason or "Unknown"),
        str(status.get("message") or text or "no message"),
        what=what,
        retry_after=_seconds(retry_after),
    )


def no_response(exc: BaseException, *, what: str = "") -> KubeError:
    """The error for a request that got no HTTP answer (connection refused, reset, timeout)."""
    return KubeError(NO_RESPONSE, type(exc).__name__, str(exc) or repr(exc), what=what)


def retryable(exc: BaseException) -> bool:
    """Worth retrying the same call: no answer, throttled (429) or a server error (5xx)."""
    return isinstance(exc, KubeError) and (
        exc.status in (NO_RESPONSE, 429) or exc.status >= 500
    )


def _seconds(header: str | None) -> float | None:
    try:
        return max(float(header), 0.0) if header else None
    except ValueError:
        return None
