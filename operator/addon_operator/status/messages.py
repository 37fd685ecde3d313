"""Error text as the status shows it: the text itself, lines kept, bounded in size.

A failed run's `status.message` and its `Ready` (and `Reconciling`/`Stalled`) condition message
hold what went wrong in the words of the failing program: helm's whole error (its first line
names the template and position, the cause comes on the following lines), the last lines of a
hook's stderr. `bounded()` keeps that readable in `kubectl get -o yaml` and `describe`: blank
lines are dropped, and text longer than `MESSAGE_LIMIT` characters is cut in the middle with
`ELLIPSIS`, keeping its start (who failed, where) and most of its end (the cause, the newest
output). The full text is in the Event (up to the API's limit) and in the operator's log.
"""

from __future__ import annotations

MESSAGE_LIMIT = 1024   # characters of a failure's text in status.message and its conditions
ELLIPSIS = "…"         # marks where a bounded message was cut
HEAD_SHARE = 4         # a cut message keeps 1/HEAD_SHARE of the limit from the start


def bounded(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text` without blank lines or trailing spaces, at most `limit` characters: a longer one
    keeps its first `limit // HEAD_SHARE` characters and its last ones, `ELLIPSIS` between."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    kept = "\n".join(line for line in lines if line)
    if len(kept) <= limit:
        return kept
    head = limit // HEAD_SHARE
    tail = limit - head - len(ELLIPSIS)
    return kept[:head] + ELLIPSIS + (kept[-tail:] if tail > 0 else "")
