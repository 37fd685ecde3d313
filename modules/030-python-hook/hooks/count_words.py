#!/usr/bin/env python3
"""Counts the distinct words of the `text` setting and stores them as values for the chart.

onStartup and afterHelm only log; beforeHelm writes the values patch. Standard library only.
"""

import json
import os
import sys

CONFIG = {"configVersion": "v1", "onStartup": 10, "beforeHelm": 10, "afterHelm": 10}


def main() -> None:
    if sys.argv[1:] == ["--config"]:
        print(json.dumps(CONFIG))
        return
    with open(os.environ["BINDING_CONTEXT_PATH"]) as f:
        bindings = [context["binding"] for context in json.load(f)]
    print(f"count_words: bindings {bindings}")
    if "beforeHelm" not in bindings:
        return
    with open(os.environ["VALUES_PATH"]) as f:
        text = json.load(f)["pythonHook"]["text"]
    words = sorted(set(text.split()))
    patch = [
        {"op": "add", "path": "/pythonHook/internal/words", "value": words},
        {"op": "add", "path": "/pythonHook/internal/wordCount", "value": len(words)},
    ]
    with open(os.environ["VALUES_JSON_PATCH_PATH"], "a") as f:
        f.write(json.dumps(patch) + "\n")


if __name__ == "__main__":
    main()
