"""The HTTP listener over loopback on an ephemeral port; liveness with a fake clock and
threads started by `Heartbeats.start`."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from addon_operator.httpserver import Heartbeats, HttpServer, listen_address
from addon_operator.metrics import HookMetrics, OperatorMetrics, parse_metrics_stream


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Flag:
    def __init__(self) -> None:
        self.value = False

    def __call__(self) -> bool:
        return self.value


@pytest.fixture
def parts() -> tuple[CollectorRegistry, CollectorRegistry, Flag, Clock, Heartbeats]:
    clock = Clock()
    return CollectorRegistry(), CollectorRegistry(), Flag(), clock, Heartbeats(30, clock)


@pytest.fixture
def server(parts: tuple) -> Iterator[HttpServer]:
    metrics, hooks, ready, _clock, heartbeats = parts
    srv = HttpServer("127.0.0.1", 0, metrics=metrics, hook_metrics=hooks, ready=ready,
                     heartbeats=heartbeats)
    with srv:
        yield srv


def get(server: HttpServer, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_metrics_endpoints_serve_their_registries(server: HttpServer, parts: tuple) -> None:
    metrics, hooks, *_ = parts
    OperatorMetrics(metrics).live_ticks.inc()
    HookMetrics(hooks).apply(parse_metrics_stream('{"name": "my_gauge", "set": 7}'), "h", "m")
    status, body = get(server, "/metrics")
    assert status == 200 and "addon_operator_live_ticks 1.0" in body and "my_gauge" not in body
    status, body = get(server, "/metrics/hooks")
    assert status == 200 and 'my_gauge{hook="h",module="m"} 7.0' in body
    assert "addon_operator_" not in body


def test_readyz_follows_the_injected_probe(server: HttpServer, parts: tuple) -> None:
    ready = parts[2]
    assert get(server, "/readyz") == (503, "Startup converge in progress.\n")
    ready.value = True
    assert get(server, "/readyz") == (200, "Startup converge done.\n")


def test_healthz_fails_when_a_loop_stops_ticking(server: HttpServer, parts: tuple) -> None:
    clock, heartbeats = parts[3], parts[4]
    assert get(server, "/healthz") == (200, "ok\n")
    heartbeats.beat("queue-main")
    heartbeats.beat("watch-modules")
    clock.now += 20
    heartbeats.beat("queue-main")
    clock.now += 20
    assert get(server, "/healthz") == (503, "stalled loops: watch-modules\n")
    heartbeats.beat("watch-modules")
    assert get(server, "/healthz") == (200, "ok\n")


def test_healthz_names_a_started_thread_that_died_not_one_that_returned(
        server: HttpServer, parts: tuple) -> None:
    heartbeats = parts[4]

    def crash() -> None:
        raise RuntimeError("unexpected")

    heartbeats.start(lambda: None, "watch-modules").join(5)
    assert get(server, "/healthz") == (200, "ok\n"), "a watch that returned stopped on purpose"
    heartbeats.start(crash, "watch-modules").join(5)
    heartbeats.start(lambda: None, "watch-modules").join(5)
    assert get(server, "/healthz") == (503, "stalled loops: watch-modules (ended)\n"), \
        "a later thread of the same name that returns does not hide the dead one"


def test_unknown_route_and_failing_probe(parts: tuple) -> None:
    metrics, hooks, *_ = parts

    def broken() -> bool:
        raise RuntimeError("queue gone")

    with HttpServer("127.0.0.1", 0, metrics=metrics, hook_metrics=hooks, ready=broken) as srv:
        status, body = get(srv, "/nope")
        assert status == 404 and "/readyz" in body
        assert get(srv, "/readyz") == (500, "error: queue gone\n")
        assert get(srv, "/healthz")[0] == 200       # still serving after the failure
        assert get(srv, "/")[0] == 200


def test_stop_releases_the_port(parts: tuple) -> None:
    metrics, hooks, ready, *_ = parts
    srv = HttpServer("127.0.0.1", 0, metrics=metrics, hook_metrics=hooks, ready=ready)
    srv.start()
    port = srv.port
    srv.stop()
    srv.stop()  # idempotent
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    with pytest.raises(RuntimeError, match="not started"):
        _ = srv.port


def test_busy_port_is_named(server: HttpServer, parts: tuple) -> None:
    metrics, hooks, ready, *_ = parts
    other = HttpServer("127.0.0.1", server.port, metrics=metrics, hook_metrics=hooks, ready=ready)
    with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{server.port}"):
        other.start()


@pytest.mark.parametrize("environ,expected", [
    ({}, ("0.0.0.0", 9650)),
    ({"ADDON_OPERATOR_LISTEN_ADDRESS": "10.0.0.5", "ADDON_OPERATOR_LISTEN_PORT": "8080"},
     ("10.0.0.5", 8080)),
    ({"SHELL_OPERATOR_LISTEN_PORT": "9115"}, ("0.0.0.0", 9115)),
    ({"ADDON_OPERATOR_LISTEN_PORT": "1", "SHELL_OPERATOR_LISTEN_PORT": "2"}, ("0.0.0.0", 1)),
])
def test_listen_address(environ: dict[str, str], expected: tuple[str, int]) -> None:
    assert listen_address(environ) == expected


def test_bad_port_names_the_variable() -> None:
    with pytest.raises(ValueError, match="ADDON_OPERATOR_LISTEN_PORT='http' is not a TCP port"):
        listen_address({"ADDON_OPERATOR_LISTEN_PORT": "http"})
