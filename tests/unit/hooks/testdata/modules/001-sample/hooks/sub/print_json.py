#!/usr/bin/env python3
"""A module hook in Python that prints its v1 config as JSON."""
import json
import sys

if sys.argv[1:] == ["--config"]:
    print(json.dumps({
        "configVersion": "v1",
        "afterHelm": 5,
        "kubernetes": [{"name": "cms", "kind": "ConfigMap", "executeHookOnEvent": ["Added"]}],
    }))
    sys.exit(0)
sys.exit(1)
