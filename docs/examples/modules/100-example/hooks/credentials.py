#!/usr/bin/env python3
"""Example module hook in Python (docs/hooks.md): a generated password that survives restarts.

The Module spec belongs to its owner, so a hook cannot keep generated state in config values.
This hook keeps it in a Secret instead. Its kubernetes binding only maintains a snapshot of the
Secret (no run on events or on Synchronization); beforeHelm takes the password from that
snapshot, or generates one and creates the Secret through $KUBERNETES_PATCH_PATH, and hands it
to the chart as .Values.example.internal.password. The gauge example_password_generated on
/metrics/hooks is 1 when the last run had to generate the password. Standard library only.
"""

import base64
import json
import os
import secrets
import sys

NAMESPACE = os.environ.get("ADDON_OPERATOR_NAMESPACE", "addon-operator")
SECRET = "example-credentials"
CONFIG = {
    "configVersion": "v1",
    "beforeHelm": 5,
    "kubernetes": [
        {
            "name": "credentials",
            "apiVersion": "v1",
            "kind": "Secret",
            "namespace": {"nameSelector": {"matchNames": [NAMESPACE]}},
            "nameSelector": {"matchNames": [SECRET]},
            "jqFilter": ".data.password",
            "keepFullObjectsInMemory": False,
            "executeHookOnEvent": [],
            "executeHookOnSynchronization": False,
        }
    ],
}


def append(variable: str, document: dict) -> None:
    """Append one JSON document to the output file named by the environment variable."""
    with open(os.environ[variable], "a") as output:
        output.write(json.dumps(document) + "\n")


def before_helm(snapshots: dict) -> None:
    stored = [item.get("filterResult") for item in snapshots.get("credentials", [])]
    encoded = next((value for value in stored if value), None)
    if encoded:
        password = base64.b64decode(encoded).decode()
    else:
        password = secrets.token_urlsafe(24)
        append("KUBERNETES_PATCH_PATH", {
            "operation": "CreateIfNotExists",
            "object": {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": SECRET, "namespace": NAMESPACE},
                "type": "Opaque",
                "data": {"password": base64.b64encode(password.encode()).decode()},
            },
        })
    append("VALUES_JSON_PATCH_PATH",
           {"op": "add", "path": "/example/internal/password", "value": password})
    append("METRICS_PATH",
           {"name": "example_password_generated", "action": "set", "value": 0 if encoded else 1})


def main() -> None:
    if sys.argv[1:] == ["--config"]:
        print(json.dumps(CONFIG))
        return
    with open(os.environ["BINDING_CONTEXT_PATH"]) as contexts:
        for context in json.load(contexts):  # a run may carry several contexts
            if context["binding"] == "beforeHelm":
                before_helm(context["snapshots"])


if __name__ == "__main__":
    main()
