"""Which `helm` CLI we talk to, and which flags it accepts.

`HelmClient` (client.py) runs `helm version --short` once and asks a `HelmVersion` which flags to
pass. Supported: helm v3.13+ (the first with release labels: `--labels`, `helm get metadata`) and
helm v4. Flag facts, checked against the binaries' `--help`:

- `--take-ownership` on `upgrade`: v3.17+ and v4;
- `helm get metadata -o json` prints release `labels`: v4 (v3 prints no labels, so the module
  checksum is also kept in the release values, the way upstream's legacy fallback reads it);
- `helm list` shows every status by default in v4; v3 needs `--all` (v4 has no such flag);
- `--labels`, `--skip-crds`, `--history-max`, `--timeout`, `-o json` on `upgrade`: v3.13+ and v4.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import HelmError

_VERSION_RE = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True, order=True)
class HelmVersion:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> HelmVersion:
        """Parse `helm version --short` output such as `v4.1.4+g05fa379`."""
        found = _VERSION_RE.search(text)
        if found is None:
            raise HelmError("version", "", f"cannot read a version from {text.strip()!r}")
        return cls(int(found.group(1)), int(found.group(2)), int(found.group(3)))

    def __str__(self) -> str:
        return f"v{self.major}.{self.minor}.{self.patch}"

    def require_supported(self) -> None:
        if self.major == 4 or (self.major == 3 and self.minor >= 13):
            return
        raise HelmError(
            "version", "", f"helm {self} is not supported: need v3.13 or newer (release labels) or v4"
        )

    @property
    def takes_ownership(self) -> bool:
        """`upgrade --take-ownership` exists (adopt resources not created by this release)."""
        return self.major >= 4 or (self.major == 3 and self.minor >= 17)

    @property
    def metadata_has_labels(self) -> bool:
        """`helm get metadata -o json` includes the release labels."""
        return self.major >= 4

    @property
    def list_all_flags(self) -> list[str]:
        """What makes `helm list` show releases in every status."""
        return ["--all"] if self.major == 3 else []
