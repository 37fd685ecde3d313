"""The render-inputs checksum: lets a module run skip `helm template` when nothing changed.

`helm template` (no cluster access) is a pure function of the chart files, the values document,
the release name, the namespace and the helm version. `HelmClient.inputs_checksum` hashes those
inputs with `inputs_checksum`; `upgrade` stores the result as the release label
`moduleInputsChecksum`, and the module runtime skips the render (and the upgrade) when a
deployed, owned release carries the checksum of the current inputs.

Every file under the (prepared) chart directory is hashed, symlinks followed as helm's chart
loader follows them; `.helmignore` is not applied, so a change to an ignored file only costs one
render, never a missed upgrade. File mtimes and directory listing order do not matter.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path


def inputs_checksum(chart_dir: Path, values_file: Path, *, release: str, namespace: str,
                    helm_version: str) -> str:
    """MD5 hex (32 characters, fits a label value) of everything `helm template` reads."""
    digest = hashlib.md5()

    def field(tag: str, data: bytes) -> None:
        # Tagged and length-prefixed, so no two different inputs can run together alike.
        digest.update(f"{tag}:{len(data)}:".encode())
        digest.update(data)

    for key, value in (("release", release), ("namespace", namespace), ("helm", helm_version)):
        field(key, value.encode())
    field("values", values_file.read_bytes())
    for relative, path in sorted(_chart_files(chart_dir, "", frozenset())):
        field("path", relative.encode())
        field("file", _content(path))
    return digest.hexdigest()


def _chart_files(directory: Path, prefix: str, ancestors: frozenset[str]
                 ) -> Iterator[tuple[str, Path]]:
    """(relative posix path, path) of every file below `directory`, through symlinks.

    A symlink back to a directory being walked (a loop) is not entered again.
    """
    real = os.path.realpath(directory)
    if real in ancestors:
        return
    inside = ancestors | {real}
    for entry in os.scandir(directory):
        path = Path(entry.path)
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():  # follows symlinks
            yield from _chart_files(path, f"{relative}/", inside)
        else:
            yield relative, path


def _content(path: Path) -> bytes:
    """The file's bytes; for a dangling symlink, where it points (helm fails on it anyway)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        if not path.is_symlink():
            raise
        return f"dangling symlink -> {os.readlink(path)}".encode()
