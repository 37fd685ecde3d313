"""The operator's main loop retries refused status writes on its periodic tick."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from addon_operator.httpserver import Heartbeats
from addon_operator.metrics import OperatorMetrics
from addon_operator.queue import TaskQueues
from addon_operator.runtime.app import Operator

from runtime_fakes import state_of


class Rounds:
    """A stop event that lets the loop go round `count` times without waiting."""

    def __init__(self, count: int) -> None:
        self.left = count

    def wait(self, timeout: float) -> bool:
        self.left -= 1
        return self.left < 0


class Writer:
    def __init__(self) -> None:
        self.retries = 0

    def retry_failed(self) -> None:
        self.retries += 1


def test_tick_retries_failed_status_writes(modules_root) -> None:
    writer = Writer()
    Operator(options=None)._tick(state_of(modules_root), OperatorMetrics(CollectorRegistry()),
                                 TaskQueues(), Heartbeats(60), writer, Rounds(3))
    assert writer.retries == 1, "once per TICK_SECONDS, and the first round is a tick"
