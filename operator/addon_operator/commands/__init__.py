"""The command-line commands, one module each; `cli.py` registers them.

Each command module has `register(subcommands)`, which adds its parser and sets `run` as the
handler; `run(args) -> int` returns the exit code. `inputs.py` holds what they share: locating
and reading the modules and the manifests, and composing values without running hooks.
"""
