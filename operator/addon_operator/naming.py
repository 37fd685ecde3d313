"""Module names: directory name → (order, name), kebab-case name ↔ camelCase values key.

Upstream converts names with a word splitter (ettle/strcase `ToCamel`/`ToKebab`) and rejects a
module whose name does not survive the round trip name → key → name. We reproduce that splitter
exactly, because the same rule decides which `<moduleKey>` a user's values and `Module` objects
refer to. Discovery calls `parse_dir_name` and `check_name`; the values engine and the commands
call `module_key` and `kebab`.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum
from pathlib import Path

# A module directory: optional `NNN-` order prefix, then the module name.
DIR_NAME_RE = re.compile(r"(([0-9]+)-)?(.+)")
MAX_ORDER = 2**31 - 1  # the order is parsed as an unsigned integer of at most 31 bits
_ASCII_SPACES = " \t\n\r"


class NamingError(ValueError):
    """A module directory name that cannot be used as a module name."""


class _Action(Enum):
    KEEP = 0        # the character continues the current word
    SPLIT = 1       # a new word starts at this character
    SKIP_SPLIT = 2  # the character is a delimiter: dropped, and the word ends


def _is_upper(char: str) -> bool:
    return unicodedata.category(char) == "Lu"


def _is_lower(char: str) -> bool:
    return unicodedata.category(char) == "Ll"


def _is_number(char: str) -> bool:
    return unicodedata.category(char) in ("Nd", "Nl", "No")


def _is_space(char: str) -> bool:
    if char.isascii():
        return char in _ASCII_SPACES
    return char.isspace()


def _upper(char: str) -> str:
    upper = char.upper()
    return upper if len(upper) == 1 else char


def _lower(char: str) -> str:
    lower = char.lower()
    return lower if len(lower) == 1 else char


def _split_action(prev: str, curr: str, nxt: str) -> _Action:
    """Where words begin, judged from one character and its neighbours ("" at either end)."""
    if _is_lower(curr):
        return _Action.KEEP
    if curr in ("_", "-") or _is_space(curr):
        return _Action.SKIP_SPLIT
    if _is_upper(curr) and prev:
        if _is_lower(prev):
            return _Action.SPLIT  # fooBar
        if _is_upper(prev) and nxt and _is_lower(nxt):
            return _Action.SPLIT  # FOOBar
    if prev and _is_number(prev):
        if curr in (".", ",") and nxt and _is_number(nxt):
            return _Action.KEEP  # v4.3
        if not _is_number(curr) and curr != ".":
            return _Action.SPLIT  # 2Def
    if curr == ".":
        return _Action.SKIP_SPLIT
    return _Action.KEEP


def _convert(text: str, delimiter: str, camel: bool) -> str:
    """Re-case `text` word by word: lower-case words joined by `delimiter`, or camelCase."""
    chars = text.strip()
    out: list[str] = []
    in_word = False
    first_word = True
    for index, curr in enumerate(chars):
        prev = chars[index - 1] if index else ""
        nxt = chars[index + 1] if index + 1 < len(chars) else ""
        action = _split_action(prev, curr, nxt)
        if action is not _Action.KEEP:
            if in_word:
                out.append(delimiter)
            in_word = False
            if action is _Action.SKIP_SPLIT:
                continue
        if camel and not in_word and not first_word:
            out.append(_upper(curr))
        else:
            out.append(_lower(curr))
        first_word = False
        in_word = True
    return "".join(out)


def module_key(name: str) -> str:
    """The camelCase values key of a module name: `cert-manager` → `certManager`."""
    return _convert(name, "", camel=True)


def kebab(key: str) -> str:
    """The kebab-case module name of a values key: `certManager` → `cert-manager`."""
    return _convert(key, "-", camel=False)


def parse_dir_name(dirname: str, unnumbered_order: int) -> tuple[int, str]:
    """Split `NNN-name` into (order, name); no prefix or an order above 2^31-1 → `unnumbered_order`."""
    match = DIR_NAME_RE.fullmatch(dirname)
    if match is None:
        raise NamingError(
            f"module directory name {dirname!r} is invalid: it must match {DIR_NAME_RE.pattern!r}"
        )
    digits, name = match.group(2), match.group(3)
    order = int(digits) if digits is not None else unnumbered_order
    if order > MAX_ORDER:
        order = unnumbered_order
    return order, name


def check_name(name: str, dir_path: Path | None = None) -> None:
    """Raise NamingError unless `name` is kebab-case and restorable from its camelCase key."""
    key = module_key(name)
    restored = kebab(key)
    if restored != name:
        where = f" (dir {dir_path})" if dir_path is not None else ""
        raise NamingError(
            f"module name {name!r}{where} must be kebab-case and restorable from its camelCase "
            f"values key {key!r} → {restored!r}"
        )
