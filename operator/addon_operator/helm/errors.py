"""The one exception type of the Helm adapter.

Raised by `HelmClient` (client.py) and the JSON parsers (release.py) when `helm` fails or prints
something unusable; the module runtime turns it into the module's status message and an Event.
"""

from __future__ import annotations


class HelmError(Exception):
    """`helm <operation>` failed for `release`; `detail` is helm's error text, all its lines
    (`client.error_text`), or why there is none."""

    def __init__(self, operation: str, release: str, detail: str) -> None:
        self.operation = operation
        self.release = release
        self.detail = detail.strip()
        target = f" {release}" if release else ""
        super().__init__(f"helm {operation}{target} failed: {self.detail or 'no error output'}")


class ReleaseNotOwnedError(HelmError):
    """The release exists but addon-operator did not create it, so it is left alone."""
