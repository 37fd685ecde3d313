"""The one exception task handlers raise: a run failed, for a reason the status names.

Module runs, module deletes and converges raise `RunFailed` with a `status.verdict` reason
(`HookFailed`, `HelmFailed`, `ValuesInvalid`, ...); the worker reports it to the queue (which
retries with backoff) and the status writer shows it as the module's `Failure`.
"""

from __future__ import annotations

from addon_operator.status import Failure


class RunFailed(Exception):
    """A task failed; `reason` is CamelCase, the message names the module, hook or file."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    @property
    def failure(self) -> Failure:
        return Failure(self.reason, self.message)
