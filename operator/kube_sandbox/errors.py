"""API errors as the Kubernetes API server reports them: a `Status` object with `reason` and `code`.

Every layer of the sandbox (store, admission, patching, routing) raises `ApiError`; the HTTP
handler turns it into the JSON `Status` body that kubectl, helm and the Python client parse
(they key their behaviour on `reason` and `code`, e.g. retry on Conflict, re-list on Gone).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A failed request; `status()` is the body the API server would send."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(resource: str, name: str, group: str = "") -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": resource}
    if group:
        details["group"] = group
    return details


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{_qualified(resource, group)} "{name}" not found',
        details=_details(resource, name, group),
    )


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{_qualified(resource, group)} "{name}" already exists',
        details=_details(resource, name, group),
    )


def conflict(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": the object has '
        "been modified; please apply your changes to the latest version and try again",
        details=_details(resource, name, group),
    )


def invalid(kind: str, name: str, errors: list[str], group: str = "") -> ApiError:
    """422 Invalid; each error string reads `<field path>: <what is wrong>`."""
    joined = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
    causes = []
    for error in errors:
        field, _, message = error.partition(": ")
        causes.append({"reason": "FieldValueInvalid", "message": message or error, "field": field})
    details = _details(kind, name, group)
    details["causes"] = causes
    return ApiError(
        422, "Invalid", f'{_qualified(kind, group)} "{name}" is invalid: {joined}', details=details
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed(message: str) -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f'the body of the request was in an unknown format - accepted media types include: '
        f'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, '
        f'application/strategic-merge-patch+json (got "{content_type}")',
    )


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)
