"""`addon-operator run` signals: the first SIGTERM/SIGINT stops gracefully, a second forces."""

from __future__ import annotations

import signal
import threading

from addon_operator.commands.run import stop_handler


def test_first_signal_stops_gracefully_second_forces_exit() -> None:
    stop, exits = threading.Event(), []
    handle = stop_handler(stop, force_exit=exits.append)
    handle(signal.SIGTERM, None)
    assert stop.is_set() and exits == []
    handle(signal.SIGINT, None)
    assert exits == [128 + signal.SIGINT]
