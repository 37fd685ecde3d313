"""The kubeconfig the sandbox writes for itself, so kubectl, helm and the Python client connect.

Plain HTTP to the local server, no credentials; the context's namespace is `default`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CONTEXT = "sandbox"


def kubeconfig(server_url: str, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": server_url}}],
        "users": [{"name": CONTEXT, "user": {}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace}}],
        "current-context": CONTEXT,
        "preferences": {},
    }


def write_kubeconfig(path: Path, server_url: str) -> Path:
    """Write (replace) the kubeconfig at `path`, creating parent directories; mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(yaml.safe_dump(kubeconfig(server_url), sort_keys=False))
    temporary.chmod(0o600)
    temporary.replace(path)
    return path
