"""A mistyped secret never shows in the Module's status, its Events or the operator's log, on
testdata/secret-settings-modules: the problems name the path and the rule broken, not the value.

Module `vault` has a secret-like setting (`password`, a string) and a binding hook that, on an
Event of the ConfigMap vault-trigger, stores a mistyped secret-like value (a number where the
values schema wants a string). Both carry the value SECRET, written only in the Module's
settings and in the hook, never in another cluster object.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client

from e2e_support import NAMESPACE, Cluster, condition, hook

pytestmark = pytest.mark.e2e

MODULES = Path(__file__).parent / "testdata" / "secret-settings-modules"
SECRET = 987654321123
TOKEN_HOOK = "hooks/token.sh"
PATCH_PROBLEM = ("values patch breaks the values schema: module vault: "
                 "values.vault.internal.token: must be of type string")
PASSWORD_PROBLEM = "settings.password: must be of type string"
REPLICAS_PROBLEM = "settings.replicas: must be >= 1"


def module_events(cluster: Cluster, name: str) -> list[tuple[str, str]]:
    """(reason, message) of every Event about Module `name` in the operator's namespace."""
    items = cluster.core.list_namespaced_event(
        cluster.namespace, field_selector=f"involvedObject.name={name}").items
    return [(e.reason or "", e.message or "") for e in items
            if e.involved_object.kind == "Module"]


def settings_decided(cluster: Cluster, generation: int) -> bool:
    obj = cluster.module("vault")
    return bool(obj["status"].get("observedGeneration") == generation
                and condition(obj, "SettingsValid")["status"] == "False")


def test_a_mistyped_secret_is_named_by_path_and_rule_never_by_value(cluster: Cluster) -> None:
    operator = cluster.operator(modules_dir=MODULES, global_hooks_dir=None)
    operator.wait_ready()
    cluster.wait("vault Ready", lambda: cluster.module("vault")["status"].get("phase") == "Ready")

    # A hook's values patch that breaks the values schema: the run fails, with an Event.
    cluster.core.create_namespaced_config_map(
        NAMESPACE, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="vault-trigger")))
    cluster.wait("the hook's values patch refused", lambda: hook(
        cluster.module("vault"), TOKEN_HOOK).get("lastResult") == "Failed")
    assert hook(cluster.module("vault"), TOKEN_HOOK)["message"] == PATCH_PROBLEM
    cluster.wait("the HookFailed Event", lambda: any(
        reason == "HookFailed" for reason, _ in module_events(cluster, "vault")))
    assert {message for reason, message in module_events(cluster, "vault")
            if reason == "HookFailed"} == {f"hook {TOKEN_HOOK} (trigger): {PATCH_PROBLEM}"}

    # Mistyped settings: SettingsValid=False for the new generation, the module Failed.
    cluster.patch_module("vault", {"settings": {"password": SECRET, "replicas": 0}})
    generation = cluster.module("vault")["metadata"]["generation"]
    cluster.wait("SettingsValid=False for the new generation",
                 lambda: settings_decided(cluster, generation))
    vault = cluster.module("vault")
    assert vault["spec"]["settings"]["password"] == SECRET, "the value is in the spec, as applied"
    status = vault["status"]
    assert condition(vault, "SettingsValid")["message"] == f"{PASSWORD_PROBLEM}; {REPLICAS_PROBLEM}"
    summary = f"invalid settings: {PASSWORD_PROBLEM} (and 1 more)"
    assert status["phase"] == "Failed" and status["message"] == summary
    assert condition(vault, "Ready")["message"] == summary
    assert condition(vault, "Stalled")["message"] == summary
    assert str(SECRET) not in json.dumps(status)

    events = module_events(cluster, "vault")
    assert events and not [message for _, message in events if str(SECRET) in message]

    log = operator.log()
    assert PASSWORD_PROBLEM in log and REPLICAS_PROBLEM in log, "the settings problems are logged"
    assert "values.vault.internal.token: must be of type string" in log
    assert str(SECRET) not in log
