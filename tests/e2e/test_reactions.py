"""Reactions of the running operator to Module and GlobalConfig changes, on the example modules:
settings changes re-run only their module, equal settings add no revision, disabling runs the
delete hooks and uninstalls, enabled scripts follow their dependency, invalid settings stall
without touching the release, GlobalConfig changes re-run every enabled module, suspend."""

from __future__ import annotations

from typing import Any

import pytest

from e2e_support import Cluster, condition, hook

EXAMPLES = ("echo-server", "patched-config", "python-hook", "dependent", "hooks-only")
PY_HOOK = "hooks/count_words.py"

pytestmark = pytest.mark.e2e


@pytest.fixture
def running(cluster: Cluster) -> Cluster:
    cluster.operator().wait_ready()
    cluster.wait("every example module Ready", lambda: all(
        cluster.module(n).get("status", {}).get("phase") == "Ready" for n in EXAMPLES))
    return cluster


def status(cluster: Cluster, name: str) -> dict[str, Any]:
    return cluster.module(name).get("status", {})


def settled(cluster: Cluster, name: str, phase: str = "Ready") -> bool:
    obj = cluster.module(name)
    st = obj.get("status", {})
    return st.get("observedGeneration") == obj["metadata"]["generation"] and st.get("phase") == phase


def test_settings_change_reruns_only_that_module(running: Cluster) -> None:
    cluster = running
    runs_before = {n: hook(cluster.module(n), h)["runs"] for n, h in
                   (("python-hook", PY_HOOK), ("hooks-only", "hooks/lifecycle.sh"))}
    cluster.patch_module("python-hook", {"settings": {"text": "one two two three"}})
    cluster.wait("python-hook revision 2", lambda: settled(cluster, "python-hook")
                 and status(cluster, "python-hook")["release"]["revision"] == 2)
    assert cluster.release_revisions("python-hook") == [1, 2]
    assert hook(cluster.module("python-hook"), PY_HOOK)["runs"] == runs_before["python-hook"] + 2, \
        "beforeHelm and afterHelm ran again, onStartup did not"
    assert hook(cluster.module("hooks-only"), "hooks/lifecycle.sh")["runs"] == runs_before["hooks-only"]
    for other in ("echo-server", "patched-config", "dependent"):
        assert cluster.release_revisions(other) == [1], other

    # Equal settings (written differently) render the same manifests: no new revision.
    cluster.patch_module("python-hook", {"settings": {"text": "one two two three", "extra": None}})
    cluster.patch_module("python-hook", {"enabled": True})
    cluster.wait("python-hook re-ran", lambda: settled(cluster, "python-hook")
                 and hook(cluster.module("python-hook"), PY_HOOK)["runs"] == runs_before["python-hook"] + 4)
    assert cluster.release_revisions("python-hook") == [1, 2]
    assert condition(cluster.module("python-hook"), "HelmReleased")["reason"] == "UpToDate"
    assert condition(cluster.module("python-hook"), "Enabled")["reason"] == "ModuleSpec"


def test_disable_uninstalls_and_enable_reinstalls(running: Cluster) -> None:
    cluster = running
    cluster.patch_module("echo-server", {"enabled": False})
    cluster.wait("echo-server Disabled", lambda: settled(cluster, "echo-server", "Disabled"))
    echo = cluster.module("echo-server")
    ready = condition(echo, "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Disabled")
    assert condition(echo, "Enabled")["reason"] == "ModuleSpec"
    assert "release" not in echo["status"]
    cluster.wait("echo-server release gone", lambda: cluster.release_revisions("echo-server") == [])
    # dependent's enabled script needs echo-server: it flips with it.
    cluster.wait("dependent Disabled", lambda: status(cluster, "dependent").get("phase") == "Disabled")
    dependent = condition(cluster.module("dependent"), "Enabled")
    assert (dependent["status"], dependent["reason"]) == ("False", "EnabledScript")
    assert "needs the echo-server module" in dependent["message"]
    assert cluster.release_revisions("dependent") == []
    assert "Uninstalled" in cluster.kubectl("describe", "module", "echo-server")

    cluster.patch_module("echo-server", {"enabled": True})
    cluster.wait("echo-server and dependent back", lambda: settled(cluster, "echo-server")
                 and status(cluster, "dependent").get("phase") == "Ready")
    assert cluster.release_revisions("echo-server") == [1]
    assert condition(cluster.module("dependent"), "Enabled")["status"] == "True"


def test_disable_runs_delete_hooks_and_enable_reruns_onstartup(running: Cluster) -> None:
    cluster = running
    before = hook(cluster.module("hooks-only"), "hooks/lifecycle.sh")["runs"]
    cluster.patch_module("hooks-only", {"enabled": False})
    cluster.wait("hooks-only Disabled", lambda: settled(cluster, "hooks-only", "Disabled"))
    cluster.patch_module("hooks-only", {"enabled": True})
    cluster.wait("hooks-only Ready", lambda: settled(cluster, "hooks-only"))
    assert hook(cluster.module("hooks-only"), "hooks/lifecycle.sh")["runs"] == before + 2, \
        "onStartup and beforeHelm run again after re-enabling"


def test_invalid_settings_stall_and_keep_the_release(running: Cluster) -> None:
    cluster = running
    cluster.patch_module("patched-config", {"settings": {"repeat": 9}})
    cluster.wait("patched-config Failed", lambda: settled(cluster, "patched-config", "Failed"))
    obj = cluster.module("patched-config")
    valid, stalled = condition(obj, "SettingsValid"), condition(obj, "Stalled")
    assert valid["status"] == "False" and "settings.repeat" in valid["message"]
    assert stalled["status"] == "True"
    assert "settings.repeat" in obj["status"]["message"]
    assert obj["status"]["release"]["revision"] == 1
    assert cluster.release_revisions("patched-config") == [1], "no Helm call with bad values"

    cluster.patch_module("patched-config", {"settings": {"repeat": 2}})
    cluster.wait("patched-config recovered", lambda: settled(cluster, "patched-config")
                 and status(cluster, "patched-config")["release"]["revision"] == 2)
    assert condition(cluster.module("patched-config"), "SettingsValid")["status"] == "True"
    assert all(c["type"] != "Stalled" for c in status(cluster, "patched-config")["conditions"])


def test_global_config_change_reruns_enabled_modules(running: Cluster) -> None:
    cluster = running
    runs = hook(cluster.module("python-hook"), PY_HOOK)["runs"]
    cluster.patch_global({"settings": {"clusterName": "prod"}})
    cluster.wait("modules using clusterName upgraded", lambda: all(
        status(cluster, n).get("release", {}).get("revision") == 2
        for n in ("echo-server", "patched-config")))
    cluster.wait("python-hook re-ran", lambda: hook(cluster.module("python-hook"), PY_HOOK)["runs"]
                 == runs + 2)
    assert cluster.release_revisions("python-hook") == [1]
    assert cluster.release_revisions("dependent") == [1]
    cluster.wait("GlobalConfig observed", lambda: cluster.global_config()["status"]
                 ["observedGeneration"] == 2 and cluster.global_config()["status"]["phase"] == "Ready")
    assert hook(cluster.global_config(), "before-all.sh")["runs"] == 2


def test_suspend_stops_all_work(running: Cluster) -> None:
    cluster = running
    cluster.patch_module("patched-config", {"suspend": True})
    cluster.wait("patched-config Suspended", lambda: settled(cluster, "patched-config", "Suspended"))
    cluster.patch_module("patched-config", {"settings": {"repeat": 3}})
    cluster.patch_global({"settings": {"clusterName": "other"}})
    cluster.wait("echo-server upgraded", lambda: status(cluster, "echo-server")["release"]["revision"] == 2)
    assert status(cluster, "patched-config")["phase"] == "Suspended"
    assert cluster.release_revisions("patched-config") == [1]
    cluster.patch_module("patched-config", {"suspend": False})
    cluster.wait("patched-config resumes", lambda: settled(cluster, "patched-config")
                 and status(cluster, "patched-config")["release"]["revision"] == 2)
