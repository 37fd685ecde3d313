"""The operator's one retry policy for the Kubernetes API, built on tenacity.

Why it exists: every request, watch or discovery that is tried again after a failure backs off
the same way, tuned in this one place. The policy (`BACKOFF`): 0.5 s after the first failure,
doubling after each further failure in a row, capped at 30 s; each delay is shortened by a
random fraction of up to 20 % (jitter), so that the many watches of an operator that lose the
API server together do not all come back at the same instant; a server's Retry-After (429)
replaces the computed delay, capped likewise. The sleep is always injected, so tests never
wait, and so is the random source.

Who uses it:

- `client.KubeClient`: every single API call (`api_retrying`: no answer, 429 or 5xx, a few
  attempts);
- `watching.list_then_watch`: reconnecting a failed watch request (`Backoff.delay`);
- `watch_forever`: keeping a watch running whatever fails, for the hook bindings' shared
  streams (`bindings/hub.py`) and the Module and GlobalConfig controllers;
- `bindings/monitor.py`: resolving a binding's kind again until its CRD is served;
- `kubepatch/apply.py`: reading an object again after a 409 Conflict.

The task queue's retries of failed module and hook runs are not API retries: they have their
own, configurable, delays (`queue.QueueSettings`).
"""

from __future__ import annotations

import itertools
import logging
import random as _random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    RetryCallState, Retrying, retry_if_exception, retry_if_exception_type, stop_after_attempt,
)
from tenacity.wait import wait_base

from addon_operator.kube.errors import KubeError, retryable

log = logging.getLogger(__name__)

E = TypeVar("E")
Sleep = Callable[[float], None]

INITIAL_DELAY = 0.5   # seconds after the first failure
MAX_DELAY = 30.0      # the cap, for computed delays and a server's Retry-After alike
JITTER = 0.2          # each delay is shortened by up to this fraction of itself


@dataclass(frozen=True)
class Backoff(wait_base):
    """`initial` seconds doubling per failure in a row up to `cap`, each delay shortened by a
    random fraction of up to `jitter` (`random()` in [0, 1)). A tenacity wait strategy too."""

    initial: float = INITIAL_DELAY
    cap: float = MAX_DELAY
    jitter: float = JITTER
    random: Callable[[], float] = _random.random

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.cap:
            raise ValueError(f"backoff: need 0 < initial ({self.initial}) <= cap ({self.cap})")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"backoff: jitter {self.jitter} is not in [0, 1)")

    def delay(self, failures: int, error: BaseException | None = None) -> float:
        """Seconds to wait after the `failures`-th failure in a row (1: the first); `error`'s
        Retry-After, when the server sent one, instead (capped)."""
        if isinstance(error, KubeError) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.cap)
        base = min(self.initial * 2.0 ** min(max(failures - 1, 0), 64), self.cap)
        return base * (1.0 - self.jitter * self.random())

    def __call__(self, retry_state: RetryCallState) -> float:
        return self.delay(retry_state.attempt_number, _error(retry_state))


BACKOFF = Backoff()


def _error(retry_state: RetryCallState) -> BaseException | None:
    outcome = retry_state.outcome
    return outcome.exception() if outcome is not None and outcome.failed else None


def _waiting_on(stop: threading.Event) -> Sleep:
    def wait(seconds: float) -> None:
        stop.wait(seconds)
    return wait


def api_retrying(
    *,
    attempts: int,
    sleep: Sleep,
    retry_on: Callable[[BaseException], bool] = retryable,
    policy: Backoff = BACKOFF,
) -> Retrying:
    """A tenacity `Retrying` for one API call: up to `attempts` tries while the error is
    `retry_on` (default: no answer, 429, 5xx), `policy`'s delays in between; the last error is
    raised as it is. Call it with the attempt: `api_retrying(...)(call)`."""
    return Retrying(stop=stop_after_attempt(attempts), wait=policy,
                    retry=retry_if_exception(retry_on), sleep=sleep, reraise=True)


def watch_forever(
    open_watch: Callable[[int], Iterable[E]],
    handle: Callable[[E], None],
    *,
    stop: threading.Event,
    what: str,
    sleep: Sleep | None = None,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] = Exception,
    on_failure: Callable[[BaseException, float], None] | None = None,
    policy: Backoff = BACKOFF,
) -> None:
    """Hand every event of `open_watch(attempt)` to `handle` until `stop` is set, opening the
    watch again whenever it ends or fails.

    `attempt` counts the watches opened, from 0, so a caller can resume from a known
    resourceVersion on the first and list afresh after a failure. A watch that ends by itself
    is opened again at once. One that fails with a `retry_on` error (raised by `handle` too) is
    logged as `what` failing, reported to `on_failure(error, delay)`, and opened again after
    `policy`'s delay for the failures in a row (an event handled resets the count); other
    errors propagate. `sleep` defaults to `stop.wait`, so a stop cuts a pause short. Returns
    when `stop` is set; an error raised once `stop` is set is not reported.
    """
    opened = itertools.count()
    failures = 0

    def attempt() -> None:
        nonlocal failures
        if stop.is_set():
            return
        try:
            for event in open_watch(next(opened)):
                handle(event)
                failures = 0
        except retry_on:
            failures += 1
            raise

    def report(retry_state: RetryCallState) -> None:
        error = _error(retry_state)
        delay = retry_state.next_action.sleep if retry_state.next_action else 0.0
        log.warning("%s failed, retrying in %.1fs: %s", what, delay, error,
                    exc_info=error if not isinstance(error, KubeError) else None)
        if on_failure is not None and error is not None:
            on_failure(error, delay)

    retrying = Retrying(
        retry=retry_if_exception_type(retry_on),
        stop=lambda retry_state: stop.is_set(),
        wait=lambda retry_state: policy.delay(failures, _error(retry_state)),
        sleep=sleep if sleep is not None else _waiting_on(stop),
        before_sleep=report,
        reraise=True,
    )
    while not stop.is_set():
        try:
            retrying(attempt)
        except retry_on:
            if not stop.is_set():  # tenacity gives up on `stop` only
                raise
