"""Process probes for tests that prove no hook process outlives its run (unit and e2e alike).

Imported as `processes` (tests/ is on the test path, as for `kstatus`): reads `/proc` directly,
independently of the runner under test, and polls with a deadline instead of sleeping a fixed
time.
"""

from __future__ import annotations

import time
from pathlib import Path


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting for whoever adopted it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def gone_within(pid: int, seconds: float) -> bool:
    """Poll until `pid` is gone; False when it still lives after `seconds`."""
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
