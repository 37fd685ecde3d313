"""The operator with the helm v3 CLI (`ADDON_OPERATOR_HELM_BINARY=helm3`): the example modules
converge, a settings change adds exactly one revision, a restart adds none, and disabling a
module uninstalls its release. The other end-to-end tests use helm v4; `make setup` installs
both (scripts/install-tools.sh)."""

from __future__ import annotations

import pytest

from e2e_support import Cluster, condition
from test_startup import CHARTED, all_ready

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox_only(
    reason="the image ships one helm (v4); helm v3 is chosen by the sandbox's PATH")]


def test_example_modules_with_helm3(cluster: Cluster) -> None:
    operator = cluster.operator(ADDON_OPERATOR_HELM_BINARY="helm3")
    operator.wait_ready()
    cluster.wait("every example module Ready", lambda: all_ready(cluster))
    for name in CHARTED:
        assert cluster.release_revisions(name) == [1], name
        assert cluster.module(name)["status"]["release"]["revision"] == 1
    assert "helm v3.17.3 (helm3)" in operator.log()

    cluster.patch_module("echo-server", {"settings": {"message": "hi from helm 3"}})
    cluster.wait("echo-server upgraded",
                 lambda: cluster.module("echo-server")["status"].get("release", {})
                 .get("revision") == 2 and all_ready(cluster))
    assert cluster.release_revisions("echo-server") == [1, 2]
    assert condition(cluster.module("echo-server"), "HelmReleased")["reason"] == \
        "UpgradeSucceeded"

    assert operator.stop() == 0
    operator.start().wait_ready()
    cluster.wait("every example module Ready again", lambda: all_ready(cluster))
    assert cluster.release_revisions("echo-server") == [1, 2], "a restart adds no revision"
    for name in CHARTED:
        assert condition(cluster.module(name), "HelmReleased")["reason"] == "UpToDate", name

    cluster.patch_module("echo-server", {"enabled": False})
    cluster.wait("echo-server uninstalled",
                 lambda: cluster.module("echo-server")["status"]["phase"] == "Disabled")
    assert cluster.release_revisions("echo-server") == []
