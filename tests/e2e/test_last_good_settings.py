"""Invalid settings block nothing and never reach Helm (docs/crd-reference.md), on
testdata/last-good-modules: with invalid Module settings a binding hook's values patch still
succeeds on the last good values, Helm is not called, and a restart keeps `status.release`;
with invalid GlobalConfig settings the operator becomes ready and disabling a module works."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e_support import GROUP, NAMESPACE, ROOT, VERSION, Cluster, condition, hook

pytestmark = pytest.mark.e2e

MODULES = Path(__file__).parent / "testdata" / "last-good-modules"
GLOBAL_HOOKS = ROOT / "global-hooks"      # its openapi: clusterName is a non-empty string
WATCH = "hooks/watch.sh"


def phase(cluster: Cluster, name: str) -> str | None:
    obj = cluster.module(name)
    st = obj.get("status", {})
    return st.get("phase") if st.get("observedGeneration") == obj["metadata"]["generation"] else None


def keeper_data(cluster: Cluster) -> dict[str, str]:
    return cluster.core.read_namespaced_config_map("keeper", NAMESPACE).data


def test_invalid_module_settings_keep_hooks_on_the_last_good_values(cluster: Cluster) -> None:
    operator = cluster.operator(modules_dir=MODULES, global_hooks_dir=GLOBAL_HOOKS)
    operator.wait_ready()
    cluster.patch_module("keeper", {"settings": {"replicas": 2}})
    cluster.wait("keeper at revision 2", lambda: phase(cluster, "keeper") == "Ready"
                 and cluster.module("keeper")["status"]["release"]["revision"] == 2)
    skip = "run skipped: the settings of generation"
    before = operator.log().count(skip)
    cluster.patch_module("keeper", {"settings": {"replicas": "many"}})
    cluster.wait("keeper Failed", lambda: phase(cluster, "keeper") == "Failed")
    cluster.wait("the run the change queued stopped before Helm",
                 lambda: operator.log().count(skip) > before)
    assert condition(cluster.module("keeper"), "SettingsValid")["status"] == "False"

    skipped = operator.log().count(skip)
    cluster.core.create_namespaced_config_map(NAMESPACE, {
        "metadata": {"name": "cm-a", "labels": {"keep-me": "yes"}}})
    cluster.wait("the hook ran on the Event", lambda: hook(
        cluster.module("keeper"), WATCH).get("lastResult") == "Succeeded")
    entry = hook(cluster.module("keeper"), WATCH)
    assert (entry["runs"], entry["failures"]) == (1, 0), "the hook is not blamed"
    cluster.wait("the module run the values change queued stopped before Helm", lambda: (
        operator.log().count(skip) > skipped))
    assert cluster.release_revisions("keeper") == [1, 2], "no Helm call with bad values"
    assert keeper_data(cluster)["replicas"] == "2"

    cluster.patch_module("keeper", {"settings": {"replicas": 3}})
    cluster.wait("keeper at revision 3", lambda: phase(cluster, "keeper") == "Ready"
                 and cluster.module("keeper")["status"]["release"]["revision"] == 3)
    assert keeper_data(cluster) == {"replicas": "3", "lastEvent": "cm-a"}, \
        "the hook's patch was kept on the last good values"

    # A restart rebuilds the status; the running release stays in it (read from Helm).
    cluster.patch_module("keeper", {"settings": {"replicas": "few"}})
    cluster.wait("keeper Failed again", lambda: phase(cluster, "keeper") == "Failed")
    operator.stop()
    operator.start().wait_ready()
    cluster.wait("keeper's status rebuilt (no hook has run)", lambda: phase(
        cluster, "keeper") == "Failed" and not cluster.module("keeper")["status"].get("hooks"))
    assert cluster.module("keeper")["status"]["release"]["revision"] == 3
    assert condition(cluster.module("keeper"), "HelmReleased")["status"] == "True"


def test_invalid_global_settings_block_no_module_work(cluster: Cluster) -> None:
    cluster.custom.create_cluster_custom_object(GROUP, VERSION, "globalconfigs", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "GlobalConfig",
        "metadata": {"name": "global"}, "spec": {"settings": {"clusterName": ""}}})
    operator = cluster.operator(modules_dir=MODULES, global_hooks_dir=GLOBAL_HOOKS)
    operator.wait_ready()
    cluster.wait("GlobalConfig reports its settings", lambda: condition(
        cluster.global_config(), "SettingsValid")["status"] == "False")
    assert "settings.clusterName" in condition(cluster.global_config(), "SettingsValid")["message"]
    cluster.wait("modules installed with the default global values", lambda: all(
        phase(cluster, n) == "Ready" for n in ("keeper", "other")))

    cluster.patch_module("other", {"enabled": False})
    cluster.wait("other Disabled", lambda: phase(cluster, "other") == "Disabled")
    assert cluster.release_revisions("other") == []
    assert cluster.release_revisions("keeper") == [1]
