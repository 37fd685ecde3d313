"""The one error type of hook configuration.

Raised by `config.parse_hook_config` (bad document) and `load.load_hook_config` (the `--config`
run failed or printed garbage). The engine turns it into a hook's status message, so it always
names the hook file and, for each problem, the key path inside the config document.
"""

from __future__ import annotations

from collections.abc import Sequence


class HookConfigError(Exception):
    """A hook's `--config` could not be obtained or is invalid.

    `problems` holds `(key path, message)` pairs; the key path is empty for problems that concern
    the whole run (exit code, unparsable output). `str()` gives one line per problem:
    `hook <file>: <path>: <message>`.
    """

    def __init__(self, hook: str, problems: Sequence[tuple[str, str]]) -> None:
        self.hook = hook
        self.problems = tuple(problems)
        super().__init__(
            "\n".join(
                f"hook {hook}: {path}: {message}" if path else f"hook {hook}: {message}"
                for path, message in self.problems
            )
        )


def format_path(path: Sequence[str | int]) -> str:
    """`("kubernetes", 0, "jqFilter")` -> `kubernetes[0].jqFilter`."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text
