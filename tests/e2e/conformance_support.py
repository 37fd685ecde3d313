"""Helpers of the hook conformance scenarios (test_conformance_*.py and
test_upstream_style_modules.py).

The hooks under `testdata/conformance/` append one JSON line per run to
`$CONFORMANCE_DUMP/<hook>.jsonl`: `{"at": <epoch seconds>, "contexts": <the binding context
array they were given>}`. `Dumps` reads those files back; `normalise` replaces the fields the
API server changes on every write (resourceVersion, uid, timestamps) so contexts can be compared
with the expected JSON files in `testdata/conformance/expected/`. `fault` drives the sandbox's
fault API over HTTP.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from e2e_support import Cluster

TESTDATA = Path(__file__).parent / "testdata" / "conformance"
VOLATILE = "<volatile>"
VOLATILE_METADATA = ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp",
                     "managedFields", "generation")


@dataclass(frozen=True)
class Run:
    """One hook run as the hook dumped it."""

    at: float
    contexts: list[dict[str, Any]]


class Dumps:
    """The dump files of one operator's hooks."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory

    def env(self) -> dict[str, str]:
        """The operator environment that tells the hooks where to dump."""
        return {"CONFORMANCE_DUMP": str(self.directory)}

    def runs(self, hook: str) -> list[Run]:
        path = self.directory / f"{hook}.jsonl"
        if not path.exists():
            return []
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        return [Run(float(doc["at"]), doc["contexts"]) for doc in map(json.loads, lines)]

    def contexts(self, hook: str, binding: str | None = None) -> list[dict[str, Any]]:
        """Every context `hook` received, run after run, optionally of one binding, normalised."""
        return [normalise(context) for run in self.runs(hook) for context in run.contexts
                if binding is None or context.get("binding") == binding]


def normalise(value: Any) -> Any:
    """`value` with the server-managed metadata fields of every object replaced by VOLATILE."""
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: normalise(item) for key, item in value.items()}
    metadata = out.get("metadata")
    if isinstance(metadata, dict) and "name" in metadata:
        for key in VOLATILE_METADATA:
            if key in metadata:
                metadata[key] = VOLATILE
    return out


def expected(name: str) -> Any:
    """An expected-contexts document of `testdata/conformance/expected/`."""
    return json.loads((TESTDATA / "expected" / name).read_text())


def configmap(name: str, labels: dict[str, str], **data: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}, "data": data}


def fault(cluster: Cluster, action: str, **body: Any) -> dict[str, Any]:
    """POST `<sandbox>/sandbox/faults/<action>` (drop-watches, expire-history, ...)."""
    server = yaml.safe_load(cluster.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    request = urllib.request.Request(f"{server}/sandbox/faults/{action}",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())
