#!/usr/bin/env python3
"""A hook in the named queue `fastlane`: runs while the main queue is busy."""

import json
import os
import sys
import time

CONFIG = {"configVersion": "v1", "kubernetes": [
    {"name": "fast", "kind": "ConfigMap", "labelSelector": {"matchLabels": {"conf": "fast"}},
     "executeHookOnSynchronization": False, "queue": "fastlane"}]}

if sys.argv[1:] == ["--config"]:
    print(json.dumps(CONFIG))
    sys.exit(0)
with open(os.environ["BINDING_CONTEXT_PATH"]) as source:
    contexts = json.load(source)
with open(os.path.join(os.environ["CONFORMANCE_DUMP"], "fast.jsonl"), "a") as dump:
    dump.write(json.dumps({"at": time.time(), "contexts": contexts}) + "\n")
