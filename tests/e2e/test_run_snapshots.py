"""A run works on one snapshot, and the status says only what is true for its generation.

On testdata/snapshot-modules: `derive`'s beforeHelm hook derives `internal.derived` from
`settings.value` and, while a gate file exists, waits before it answers, so the tests change
the spec *during* a run (the interleaving is forced, not hoped for). Every Helm revision must
deploy settings and derived values of one generation, the last generation ends Ready with its
values, and sampling the Module through valid → invalid → valid settings never shows
`SettingsValid=True` or `Ready=True` for the invalid generation. `ordered`'s kubernetes
binding fails once: the events that arrive during its retry's backoff still reach the hook
after the failed one, in order.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e_support import NAMESPACE, Cluster, condition, hook

pytestmark = pytest.mark.e2e

MODULES = Path(__file__).parent / "testdata" / "snapshot-modules"


def deployed_values(cluster: Cluster, release: str) -> dict[int, dict[str, str]]:
    """Revision -> the data of the chart's ConfigMap in that revision's manifest (decoded from
    Helm's release Secrets: base64, gzip, JSON)."""
    secrets = cluster.core.list_namespaced_secret(
        NAMESPACE, label_selector=f"owner=helm,name={release}").items
    revisions = {}
    for secret in secrets:
        record = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(
            secret.data["release"]))))
        [config_map] = [doc for doc in yaml.safe_load_all(record["manifest"]) if doc]
        revisions[int(secret.metadata.labels["version"])] = config_map["data"]
    return revisions


def ready_for(obj: dict[str, Any]) -> int | None:
    """The generation `Ready=True` is stamped with, or None when Ready is not True."""
    try:
        ready = condition(obj, "Ready")
    except KeyError:
        return None
    return ready["observedGeneration"] if ready["status"] == "True" else None


def wait_ready_at(cluster: Cluster, name: str, generation: int) -> None:
    cluster.wait(f"{name} Ready for generation {generation}",
                 lambda: ready_for(cluster.module(name)) == generation
                 and cluster.module(name)["metadata"]["generation"] == generation)


def generation_of(cluster: Cluster, name: str) -> int:
    return int(cluster.module(name)["metadata"]["generation"])


def assert_every_revision_is_one_generation(cluster: Cluster) -> dict[int, dict[str, str]]:
    revisions = deployed_values(cluster, "derive")
    mixed = {rev: data for rev, data in revisions.items() if data["value"] != data["derived"]}
    assert not mixed, f"revisions mixing two generations' values: {mixed}"
    return revisions


def start(cluster: Cluster, *flags: str) -> Path:
    """The operator on the snapshot modules, with a gate directory holding `flags` (files the
    hooks look for); `derive` Ready for its first generation. Returns the gate directory."""
    gate = cluster.tmp / "gate"
    gate.mkdir()
    for flag in flags:
        (gate / flag).touch()
    cluster.operator(modules_dir=MODULES, global_hooks_dir=None, GATE_DIR=str(gate)).wait_ready()
    wait_ready_at(cluster, "derive", generation_of(cluster, "derive"))
    return gate


def test_a_spec_change_during_a_run_never_mixes_into_it(cluster: Cluster) -> None:
    gate = start(cluster)

    (gate / "hold").touch()
    cluster.patch_module("derive", {"settings": {"value": "v2"}})
    cluster.wait("the v2 run waits in its hook", lambda: (gate / "started-v2").exists())
    cluster.patch_module("derive", {"settings": {"value": "v3"}})
    newest = generation_of(cluster, "derive")
    cluster.wait("generation of v3 seen: Ready is not True for it", lambda: (
        condition(cluster.module("derive"), "Ready")["observedGeneration"] == newest))
    assert ready_for(cluster.module("derive")) is None
    (gate / "hold").unlink()

    wait_ready_at(cluster, "derive", newest)
    revisions = assert_every_revision_is_one_generation(cluster)
    assert revisions[max(revisions)] == {"value": "v3", "derived": "v3"}
    assert {"value": "v2", "derived": "v2"} in revisions.values(), \
        "the v2 run finished on its own snapshot"
    data = cluster.core.read_namespaced_config_map("derive", NAMESPACE).data
    assert data == {"value": "v3", "derived": "v3"}


def test_four_changes_in_five_seconds_deploy_only_whole_generations(cluster: Cluster) -> None:
    start(cluster, "slow")
    for value in ("a", "b", "c", "d"):
        cluster.patch_module("derive", {"settings": {"value": value}})
        time.sleep(1.2)   # pacing the changes over five seconds, not a wait for an outcome
    wait_ready_at(cluster, "derive", generation_of(cluster, "derive"))
    revisions = assert_every_revision_is_one_generation(cluster)
    assert revisions[max(revisions)] == {"value": "d", "derived": "d"}
    assert condition(cluster.module("derive"), "HelmReleased")["observedGeneration"] == \
        generation_of(cluster, "derive")


class Sampler:
    """Reads the Module every 0.1 s in a thread and keeps (generation, conditions by type)."""

    def __init__(self, cluster: Cluster, name: str) -> None:
        self.samples: list[tuple[int, dict[str, dict[str, Any]]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(cluster, name), daemon=True)
        self._thread.start()

    def _run(self, cluster: Cluster, name: str) -> None:
        while not self._stop.wait(0.1):
            obj = cluster.module(name)
            conds = {c["type"]: c for c in obj.get("status", {}).get("conditions", [])}
            self.samples.append((obj["metadata"]["generation"], conds))

    def stop(self) -> list[tuple[int, dict[str, dict[str, Any]]]]:
        self._stop.set()
        self._thread.join(5)
        return self.samples


def test_invalid_settings_are_never_shown_valid_or_ready(cluster: Cluster) -> None:
    gate = start(cluster)
    sampler = Sampler(cluster, "derive")

    (gate / "hold").touch()
    cluster.patch_module("derive", {"settings": {"value": "v2"}})
    cluster.wait("the v2 run waits in its hook", lambda: (gate / "started-v2").exists())
    superseded = generation_of(cluster, "derive")
    cluster.patch_module("derive", {"settings": {"value": 42}})
    invalid = generation_of(cluster, "derive")
    cluster.wait("SettingsValid=False while the run before still goes on", lambda: (
        condition(cluster.module("derive"), "SettingsValid")["observedGeneration"] == invalid))
    settings_valid = condition(cluster.module("derive"), "SettingsValid")
    assert settings_valid["status"] == "False" and "settings.value" in settings_valid["message"]
    assert (gate / "hold").exists(), "decided while the previous run was still held"
    cluster.wait("the sampler saw the invalid generation", lambda: any(
        conds.get("SettingsValid", {}).get("observedGeneration") == invalid
        for _, conds in list(sampler.samples)))
    cluster.patch_module("derive", {"settings": {"value": "v4"}})
    fixed = generation_of(cluster, "derive")
    (gate / "hold").unlink()
    wait_ready_at(cluster, "derive", fixed)
    samples = sampler.stop()

    for _, conds in samples:
        for kind in ("SettingsValid", "Ready"):
            cond = conds.get(kind)
            assert not (cond and cond["status"] == "True"
                        and cond["observedGeneration"] == invalid), \
                f"{kind}=True shown for the invalid generation {invalid}: {cond}"
        ready = conds.get("Ready")
        assert not (ready and ready["status"] == "True"
                    and ready["observedGeneration"] == superseded), \
            f"Ready=True for generation {superseded}, superseded before its run ended: {ready}"
    revisions = assert_every_revision_is_one_generation(cluster)
    assert revisions[max(revisions)] == {"value": "v4", "derived": "v4"}


def test_binding_contexts_stay_in_order_after_a_failed_run(cluster: Cluster) -> None:
    gate = start(cluster, "fail-once")
    trace = gate / "trace"

    def create(name: str) -> None:
        cluster.core.create_namespaced_config_map(NAMESPACE, {
            "metadata": {"name": name, "labels": {"ordered": "yes"}}})

    create("cm-1")
    cluster.wait("the run with cm-1 failed", lambda: not (gate / "fail-once").exists()
                 and hook(cluster.module("ordered"), "hooks/record.sh").get("failures") == 1)
    create("cm-2")   # queued while the failed run waits out its backoff
    create("cm-3")
    cluster.wait("three events recorded", lambda: trace.exists()
                 and len(trace.read_text().split()) == 3)
    assert trace.read_text().split() == ["cm-1", "cm-2", "cm-3"]
