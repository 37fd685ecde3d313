#!/usr/bin/env python3
"""Kubernetes bindings with a jqFilter: `filtered` keeps full objects, `slim` keeps only the
filter result (keepFullObjectsInMemory: false). Dumps every binding context it receives."""

import json
import os
import sys
import time

CONFIG = {
    "configVersion": "v1",
    "kubernetes": [
        {"name": "filtered", "apiVersion": "v1", "kind": "ConfigMap",
         "namespace": {"nameSelector": {"matchNames": ["conf"]}},
         "labelSelector": {"matchLabels": {"conf": "kube"}}, "jqFilter": ".data.value"},
        {"name": "slim", "kind": "cm", "keepFullObjectsInMemory": False,
         "namespace": {"nameSelector": {"matchNames": ["conf"]}},
         "labelSelector": {"matchLabels": {"conf": "kube"}}, "jqFilter": ".data.value"},
    ],
}

if sys.argv[1:] == ["--config"]:
    print(json.dumps(CONFIG))
    sys.exit(0)
with open(os.environ["BINDING_CONTEXT_PATH"]) as source:
    contexts = json.load(source)
with open(os.path.join(os.environ["CONFORMANCE_DUMP"], "filtered.jsonl"), "a") as dump:
    dump.write(json.dumps({"at": time.time(), "contexts": contexts}) + "\n")
