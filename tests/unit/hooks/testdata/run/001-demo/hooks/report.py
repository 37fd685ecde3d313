#!/usr/bin/env python3
"""A Python hook: reports its interpreter and inputs, and patches the module's values."""
import json
import os
import sys

with open(os.environ["BINDING_CONTEXT_PATH"]) as f:
    contexts = json.load(f)
with open(os.environ["VALUES_PATH"]) as f:
    values = json.load(f)
report = {
    "executable": sys.executable,
    "prefix": sys.prefix,
    "pythonhome": os.environ.get("PYTHONHOME"),
    "argv": sys.argv,
    "cwd": os.getcwd(),
    "bindings": [c["binding"] for c in contexts],
}
with open(os.path.join(os.environ["OBSERVE_DIR"], "python.json"), "w") as f:
    json.dump(report, f)
with open(os.environ["VALUES_JSON_PATCH_PATH"], "w") as f:
    json.dump([{"op": "add", "path": "/demo/fromPython", "value": values["global"]["clusterName"]}], f)
