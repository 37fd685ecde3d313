#!/usr/bin/env python3
"""A module hook that must run with the module's hooks/venv interpreter."""
import os
import sys

if sys.argv[1:] == ["--config"]:
    with open(os.environ["OBSERVE_FILE"], "a") as out:
        out.write(f"cwd={os.getcwd()}\n")
    print("configVersion: v1\nonStartup: 3")
