"""The one retry policy (`kube/retry.py`): its delays, the single-call `Retrying` and the
`watch_forever` loop, all with injected sleeps and random sources (nothing here waits)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest

from addon_operator.kube import KubeError, NotFound
from addon_operator.kube.errors import NO_RESPONSE
from addon_operator.kube.retry import (
    BACKOFF, INITIAL_DELAY, JITTER, MAX_DELAY, Backoff, api_retrying, watch_forever,
)

SHORTEST = Backoff(random=lambda: 0.999999)   # the most jitter: the shortest delays
LONGEST = Backoff(random=lambda: 0.0)         # no jitter: the longest delays


def refused() -> KubeError:
    return KubeError(NO_RESPONSE, "ConnectionRefusedError", "refused")


def test_delays_double_from_the_initial_delay_up_to_the_cap() -> None:
    assert [LONGEST.delay(n) for n in range(1, 10)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    assert (INITIAL_DELAY, MAX_DELAY) == (0.5, 30.0)


def test_delays_grow_even_with_the_worst_jitter() -> None:
    for failures in range(1, 7):   # below the cap
        assert SHORTEST.delay(failures + 1) > LONGEST.delay(failures)


def test_jitter_shortens_each_delay_by_at_most_its_fraction() -> None:
    rng = random.Random(7)
    policy = Backoff(random=rng.random)
    for failures in (1, 2, 5, 8, 40):
        base = LONGEST.delay(failures)
        samples = [policy.delay(failures) for _ in range(200)]
        assert all(base * (1 - JITTER) <= s <= base for s in samples)
        assert len(set(samples)) > 100, "the delays are spread, not one value"
    assert SHORTEST.delay(1) == pytest.approx(0.5 * (1 - JITTER), rel=1e-5)


def test_the_cap_holds_for_any_number_of_failures_and_for_retry_after() -> None:
    assert LONGEST.delay(10_000) == MAX_DELAY
    assert 0 < BACKOFF.delay(0) <= INITIAL_DELAY, "no failure counted yet: the first delay"
    throttled = KubeError(429, "TooManyRequests", "slow down", retry_after=3)
    assert SHORTEST.delay(6, throttled) == 3, "the server's Retry-After replaces the delay"
    patient = KubeError(429, "TooManyRequests", "slow down", retry_after=3600)
    assert LONGEST.delay(1, patient) == MAX_DELAY


@pytest.mark.parametrize("options", [{"initial": 0}, {"initial": 5, "cap": 1}, {"jitter": 1},
                                     {"jitter": -0.1}])
def test_nonsense_policies_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**options)  # type: ignore[arg-type]


# ---- single calls --------------------------------------------------------------------------

def flaky(*errors: BaseException) -> tuple[list[int], object]:
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "ok"
    return calls, call


def test_a_call_is_retried_on_retryable_errors_with_growing_injected_sleeps() -> None:
    sleeps: list[float] = []
    calls, call = flaky(refused(), KubeError(503, "ServiceUnavailable", "busy"), refused())
    assert api_retrying(attempts=5, sleep=sleeps.append, policy=SHORTEST)(call) == "ok"
    assert len(calls) == 4 and len(sleeps) == 3
    assert sleeps == sorted(sleeps) and sleeps[0] < sleeps[1] < sleeps[2]


def test_a_call_gives_up_after_its_attempts_and_never_retries_client_errors() -> None:
    sleeps: list[float] = []
    calls, call = flaky(*[refused()] * 9)
    with pytest.raises(KubeError, match="refused"):
        api_retrying(attempts=3, sleep=sleeps.append)(call)
    assert len(calls) == 3 and len(sleeps) == 2
    sleeps.clear()
    calls, call = flaky(NotFound(404, "NotFound", "gone"))
    with pytest.raises(NotFound):
        api_retrying(attempts=3, sleep=sleeps.append)(call)
    assert len(calls) == 1 and sleeps == []


# ---- watch_forever -------------------------------------------------------------------------

class Watches:
    """Scripted watches: each `open` takes the next step, a list of events (ending normally)
    or an exception raised after the events before it; with no steps left it sets `stop`."""

    def __init__(self, stop: threading.Event, *steps: list[object]) -> None:
        self.stop = stop
        self.steps = list(steps)
        self.opened: list[int] = []
        self.handled: list[object] = []

    def open(self, attempt: int) -> Iterator[object]:
        self.opened.append(attempt)
        if not self.steps:
            self.stop.set()
            return
        for item in self.steps.pop(0):
            if isinstance(item, BaseException):
                raise item
            yield item


def test_watch_forever_backs_off_by_failures_in_a_row_and_an_event_resets_the_count() -> None:
    stop, sleeps = threading.Event(), []
    failures: list[tuple[str, float]] = []
    watches = Watches(stop, [refused()], [refused()], ["a", refused()], [], ["b"])
    watch_forever(watches.open, watches.handled.append, stop=stop, what="watch of things",
                  sleep=sleeps.append, retry_on=KubeError, policy=LONGEST,
                  on_failure=lambda exc, delay: failures.append((str(exc), delay)))
    assert watches.handled == ["a", "b"]
    assert watches.opened == [0, 1, 2, 3, 4, 5], "an ended watch is opened again at once"
    assert sleeps == [0.5, 1.0, 0.5], "the event 'a' reset the count"
    assert [delay for _, delay in failures] == sleeps
    assert "refused" in failures[0][0]


def test_watch_forever_retries_errors_of_the_handler_and_propagates_others() -> None:
    stop, sleeps = threading.Event(), []
    seen: list[object] = []

    def handle(event: object) -> None:
        seen.append(event)
        if event == "bug":
            raise ValueError("a bug in a handler")

    watches = Watches(stop, ["bug"], ["fine"])
    watch_forever(watches.open, handle, stop=stop, what="watch", sleep=sleeps.append,
                  policy=LONGEST)
    assert seen == ["bug", "fine"] and sleeps == [0.5]

    watches = Watches(threading.Event(), [RuntimeError("not an API error")])
    with pytest.raises(RuntimeError):
        watch_forever(watches.open, seen.append, stop=watches.stop, what="watch",
                      sleep=sleeps.append, retry_on=KubeError)


def test_watch_forever_honours_the_stop_event() -> None:
    stop = threading.Event()
    stop.set()
    opened: list[int] = []
    watch_forever(lambda n: opened.append(n) or [], print, stop=stop, what="watch")
    assert opened == [], "nothing is opened once stopped"

    stop = threading.Event()
    failures: list[float] = []

    def open_watch(attempt: int) -> Iterator[object]:
        raise refused()
        yield  # a generator

    def failed(exc: BaseException, delay: float) -> None:   # stop during the pause
        failures.append(delay)
        threading.Timer(0.05, stop.set).start()

    started = time.monotonic()
    watch_forever(open_watch, print, stop=stop, what="watch", on_failure=failed,
                  policy=Backoff(initial=20, cap=20))
    assert failures == [pytest.approx(20, rel=JITTER)]
    assert time.monotonic() - started < 5, "the default sleep ends when stop is set"


def test_an_error_once_stopped_is_not_reported() -> None:
    stop, sleeps = threading.Event(), []
    failures: list[float] = []

    def open_watch(attempt: int) -> Iterator[object]:
        stop.set()
        raise refused()
        yield

    watch_forever(open_watch, print, stop=stop, what="watch", sleep=sleeps.append,
                  on_failure=lambda exc, delay: failures.append(delay))
    assert sleeps == [] and failures == []
