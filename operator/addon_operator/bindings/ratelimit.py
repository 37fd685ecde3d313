"""`settings.executionMinInterval` / `executionBurst`: a token bucket per hook.

Upstream waits on `rate.NewLimiter(rate.Every(executionMinInterval), executionBurst)` before
every run of the hook (onStartup and Synchronization included), then combines the queued tasks,
so events piling up during the wait merge into one run. The runtime calls `reserve()` before
taking the contexts of a hook run and waits the returned number of seconds (with its own
injected sleep); the clock is injected, so the bucket is pure arithmetic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from addon_operator.hooks.config_model import HookSettings


class TokenBucket:
    """Tokens accrue one per `interval` seconds up to `burst`; a run spends one."""

    def __init__(self, interval: float, burst: int, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if interval < 0 or burst < 1:
            raise ValueError(f"rate limit needs interval >= 0 and burst >= 1, got interval "
                             f"{interval}s and burst {burst}")
        self._interval = interval
        self._burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Spend a token; seconds the caller must wait before running (0 when one was there)."""
        if self._interval == 0:
            return 0.0
        with self._lock:
            now = self._clock()
            elapsed = max(now - self._at, 0.0)
            self._tokens = min(self._tokens + elapsed / self._interval, float(self._burst))
            self._at = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens * self._interval


def limiter_for(settings: HookSettings, *, clock: Callable[[], float] = time.monotonic
                ) -> TokenBucket | None:
    """The hook's bucket, or None when its runs are not limited (no `settings`)."""
    if settings.execution_min_interval is None:
        return None
    return TokenBucket(settings.execution_min_interval.total_seconds(),
                       settings.execution_burst or 1, clock=clock)
