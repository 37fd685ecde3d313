"""The settings token bucket with an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from addon_operator.bindings import TokenBucket, limiter_for
from addon_operator.hooks import HookSettings


def test_burst_then_one_run_per_interval() -> None:
    now = [0.0]
    bucket = TokenBucket(10.0, 2, clock=lambda: now[0])
    assert [bucket.reserve(), bucket.reserve(), bucket.reserve()] == [0.0, 0.0, 10.0]
    assert bucket.reserve() == 20.0  # reservations queue up behind each other
    now[0] = 100.0
    assert [bucket.reserve(), bucket.reserve(), bucket.reserve()] == [0.0, 0.0, 10.0]


def test_refill_is_proportional_and_capped() -> None:
    now = [0.0]
    bucket = TokenBucket(4.0, 1, clock=lambda: now[0])
    bucket.reserve()
    now[0] = 3.0
    assert bucket.reserve() == pytest.approx(1.0)


def test_limiter_from_settings() -> None:
    assert limiter_for(HookSettings()) is None
    unlimited = limiter_for(HookSettings(timedelta(0), 1))
    assert unlimited is not None and unlimited.reserve() == unlimited.reserve() == 0.0
    with pytest.raises(ValueError, match="burst >= 1"):
        TokenBucket(1.0, 0)
