"""Go duration strings (`time.ParseDuration` syntax): `10s`, `1h30m`, `1.5h`, `300ms`, `0`.

Hooks write them in `settings.executionMinInterval` and in `@every <duration>` crontabs; both
are parsed by `config.py` and `crontab.py` with `parse_go_duration`.
"""

from __future__ import annotations

import re
from datetime import timedelta

_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # U+00B5 micro sign
    "μs": 1e-6,  # U+03BC Greek mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text: str) -> timedelta:
    """Parse `text` like Go's `time.ParseDuration`; raise `ValueError` naming the text if not.

    Accepted: an optional sign, then one or more `<number><unit>` parts (units ns, us, µs, ms,
    s, m, h; numbers may have a fraction), or the bare `0`. Precision is a microsecond.
    """
    if not isinstance(text, str):
        raise ValueError(f"invalid duration {text!r}: not a string")
    body = text
    sign = 1.0
    if body[:1] in ("+", "-"):
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:]
    if body == "0":
        return timedelta(0)
    position = 0
    seconds = 0.0
    while position < len(body):
        match = _PART.match(body, position)
        if match is None:
            raise ValueError(
                f"invalid duration {text!r} (expected e.g. 10s, 1m30s, 1.5h, 300ms)"
            )
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not body:
        raise ValueError(f"invalid duration {text!r} (expected e.g. 10s, 1m30s, 1.5h, 300ms)")
    return timedelta(seconds=sign * seconds)
