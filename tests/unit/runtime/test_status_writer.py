"""Status writes: only through patch_status, only when something changed, vanished keys nulled."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

from addon_operator.helm import ReleaseInfo
from addon_operator.kube import KubeError
from addon_operator.runtime.status_writer import StatusWriter, merge_patch

from runtime_fakes import FakeKube, state_of, write_module

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def test_merge_patch_nulls_vanished_keys() -> None:
    assert merge_patch({"phase": "Ready", "release": {"revision": 1}}, {"phase": "Disabled"}) == \
        {"phase": "Disabled", "release": None}
    assert merge_patch(None, {"phase": "Ready"}) == {"phase": "Ready"}


def test_writes_only_changes(modules_root, kube: FakeKube) -> None:
    write_module(modules_root, "010-a")
    state = state_of(modules_root)
    writer = StatusWriter(kube, state, now=lambda: NOW)
    runtime = state.modules["a"]
    runtime.status.generation, runtime.status.enabled = 1, True
    runtime.status.observed_generation = runtime.status.applied_generation = 1
    runtime.status.settings_problems = []
    runtime.status.release = ReleaseInfo("a", "addons", 1, "deployed", "a", "0.2.0")
    writer.module(runtime)
    writer.module(runtime)
    assert [(plural, name) for plural, name, _ in kube.status_patches] == [("modules", "a")]
    assert kube.status_patches[0][2]["phase"] == "Ready"

    runtime.status.enabled, runtime.status.release = False, None
    writer.module(runtime)
    assert kube.status_patches[-1][2]["release"] is None
    assert kube.status_patches[-1][2]["phase"] == "Disabled"


def test_global_status_counts_written_module_statuses(modules_root, kube: FakeKube) -> None:
    write_module(modules_root, "010-a")
    write_module(modules_root, "020-b")
    state = state_of(modules_root)
    writer = StatusWriter(kube, state, now=lambda: NOW)
    for runtime, enabled in zip(state.known(), (True, False)):
        runtime.status.enabled, runtime.status.settings_problems = enabled, []
        runtime.status.has_chart = False
        runtime.status.observed_generation = runtime.status.applied_generation = 0
        writer.module(runtime)
    writer.global_config()
    plural, name, status = kube.status_patches[-1]
    assert (plural, name) == ("globalconfigs", "global")
    assert status["modules"] == {"total": 2, "enabled": 1, "ready": 1, "failed": 0}


def test_missing_object_is_not_an_error(modules_root, kube: FakeKube) -> None:
    write_module(modules_root, "010-a")
    state = state_of(modules_root)
    kube.missing_status.add("a")
    StatusWriter(kube, state, now=lambda: NOW).module(state.modules["a"])
    assert state.modules["a"].written_status is None


class FlakyKube(FakeKube):
    """The API refuses status writes while `down`."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def patch_status(self, resource, name, status, *, namespace=None):
        if self.down:
            raise KubeError(503, "ServiceUnavailable", "the API is down", what=name)
        return super().patch_status(resource, name, status, namespace=namespace)


def test_a_failed_write_is_retried_without_a_new_change(modules_root) -> None:
    write_module(modules_root, "010-a")
    state = state_of(modules_root)
    kube = FlakyKube()
    writer = StatusWriter(kube, state, now=lambda: NOW)
    runtime = state.modules["a"]
    runtime.status.enabled, runtime.status.settings_problems = True, []
    runtime.status.has_chart = False
    kube.down = True
    writer.module(runtime)
    writer.global_config()
    assert kube.status_patches == [] and runtime.written_status is None
    writer.retry_failed()
    assert kube.status_patches == [], "still down: nothing written, still remembered"
    kube.down = False
    writer.retry_failed()
    assert [(plural, name) for plural, name, _ in kube.status_patches] == \
        [("globalconfigs", "global"), ("modules", "a")]
    assert runtime.written_status == kube.status_patches[-1][2]
    writer.retry_failed()
    assert len(kube.status_patches) == 2, "nothing left to retry"


class BlockingKube(FakeKube):
    """Status patches of `blocked` wait for `release`: a slow API call in flight."""

    def __init__(self, blocked: str) -> None:
        super().__init__()
        self.blocked = blocked
        self.entered = threading.Event()
        self.release = threading.Event()

    def patch_status(self, resource, name, status, *, namespace=None):
        if name == self.blocked:
            self.entered.set()
            assert self.release.wait(10), "the test released the patch"
        return super().patch_status(resource, name, status, namespace=namespace)


def test_no_lock_is_held_across_a_patch_and_the_newest_status_is_written_last(
        modules_root) -> None:
    """While module a's PATCH hangs, module b's status is written (no lock across the call);
    a write of a asked for meanwhile returns at once and is carried out by the writing
    thread after its PATCH, with a's newest status, so the last write is the newest."""
    write_module(modules_root, "010-a")
    write_module(modules_root, "020-b")
    state = state_of(modules_root)
    kube = BlockingKube("a")
    writer = StatusWriter(kube, state, now=lambda: NOW)
    a, b = state.modules["a"], state.modules["b"]
    first = threading.Thread(target=writer.module, args=(a,))
    first.start()
    assert kube.entered.wait(10)
    writer.module(b)
    assert [name for _, name, _ in kube.status_patches] == ["b"], "b did not wait for a"
    a.status.enabled, a.status.enabled_reason = False, "ModuleSpec"
    writer.module(a)                     # returns at once: a's write is in flight
    assert [name for _, name, _ in kube.status_patches] == ["b"]
    kube.release.set()
    first.join(10)
    assert not first.is_alive()
    written = [status for _, name, status in kube.status_patches if name == "a"]
    assert len(written) == 2, "the write asked for meanwhile was carried out"
    enabled = {c["type"]: c["status"] for c in written[-1]["conditions"]}["Enabled"]
    assert enabled == "False", "the last write carries the newest status"
    assert a.written_status == written[-1]
