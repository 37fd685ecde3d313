#!/usr/bin/env python3
"""Global lifecycle contexts: onStartup (no type, no snapshots), beforeAll/afterAll (with the
hook's kubernetes snapshots). The `cms` binding only feeds the snapshot."""

import json
import os
import sys
import time

CONFIG = {
    "configVersion": "v1",
    "onStartup": 1,
    "beforeAll": 1,
    "afterAll": 1,
    "kubernetes": [
        {"name": "cms", "kind": "ConfigMap", "labelSelector": {"matchLabels": {"conf": "sched"}},
         "jqFilter": ".metadata.name", "keepFullObjectsInMemory": False,
         "executeHookOnSynchronization": False, "executeHookOnEvent": []},
    ],
}

if sys.argv[1:] == ["--config"]:
    print(json.dumps(CONFIG))
    sys.exit(0)
with open(os.environ["BINDING_CONTEXT_PATH"]) as source:
    contexts = json.load(source)
with open(os.path.join(os.environ["CONFORMANCE_DUMP"], "global-lifecycle.jsonl"), "a") as dump:
    dump.write(json.dumps({"at": time.time(), "contexts": contexts}) + "\n")
