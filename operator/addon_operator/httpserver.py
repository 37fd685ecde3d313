"""The operator's HTTP listener: `/metrics`, `/metrics/hooks`, `/healthz`, `/readyz`.

Upstream serves these on `ADDON_OPERATOR_LISTEN_ADDRESS`:`ADDON_OPERATOR_LISTEN_PORT`
(default 0.0.0.0:9650; docs/operations.md, "HTTP endpoints"). `run` starts one `HttpServer`
before anything else (so a pod's probes answer during startup) and stops it on shutdown.
Differences from upstream: `/healthz` is 200 only while the operator's loops keep ticking
and none of its long-lived threads (workers, the Module/GlobalConfig watches, the bindings'
watches) has died of an exception (`Heartbeats`), not unconditionally, so a wedged process
gets restarted; `/readyz` is 200 after the first converge, decided by an injected callable.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

ADDRESS_ENV = ("ADDON_OPERATOR_LISTEN_ADDRESS", "SHELL_OPERATOR_LISTEN_ADDRESS")
PORT_ENV = ("ADDON_OPERATOR_LISTEN_PORT", "SHELL_OPERATOR_LISTEN_PORT")
DEFAULT_ADDRESS = "0.0.0.0"
DEFAULT_PORT = 9650
POLL_SECONDS = 0.05   # how soon `stop()` is noticed by the serving loop
ROUTES = ("/metrics", "/metrics/hooks", "/healthz", "/readyz")

log = logging.getLogger(__name__)

Probe = Callable[[], bool]


def listen_address(environ: Mapping[str, str] | None = None) -> tuple[str, int]:
    """(host, port) from the environment, first variable set wins; the port is checked."""
    env = os.environ if environ is None else environ
    host = next((env[n] for n in ADDRESS_ENV if env.get(n)), DEFAULT_ADDRESS)
    port_var = next((n for n in PORT_ENV if env.get(n)), None)
    if port_var is None:
        return host, DEFAULT_PORT
    raw = env[port_var]
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise ValueError(f"{port_var}={raw!r} is not a TCP port (0-65535)")
    return host, int(raw)


class Heartbeats:
    """Liveness of the operator's loops: each loop calls `beat(name)` as it goes round; the
    process is alive while every loop that ever beat did so within `max_age` seconds, and no
    `track()`ed thread has ended without `release()` (a worker or a watch killed by an
    exception; a worker busy with a long task is still alive). `start()` runs a thread that
    tracks and releases itself."""

    def __init__(self, max_age: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_age = max_age
        self._clock = clock
        self._last: dict[str, float] = {}
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def beat(self, loop: str) -> None:
        with self._lock:
            self._last[loop] = self._clock()

    def track(self, thread: threading.Thread) -> None:
        """Report `thread` (under its name) once it has started and ended without
        `release()`; threads of the same name are told apart."""
        with self._lock:
            self._threads.add(thread)

    def release(self, thread: threading.Thread) -> None:
        """`thread` ends on purpose (a stopped watch, shutdown): no longer reported."""
        with self._lock:
            self._threads.discard(thread)

    def start(self, target: Callable[[], None], name: str) -> threading.Thread:
        """Run `target` in a new tracked daemon thread named `name`: returning from `target`
        (stopping on purpose) releases the thread; an exception escaping it is logged and
        leaves the thread reported by `stale()`."""
        def body() -> None:
            try:
                target()
            except Exception:
                log.exception("thread %s died", name)
                return
            self.release(threading.current_thread())

        thread = threading.Thread(target=body, name=name, daemon=True)
        self.track(thread)
        thread.start()
        return thread

    def stale(self) -> list[str]:
        """Loops that have not beaten for longer than `max_age` and tracked threads that
        ended (`<name> (ended)`), sorted."""
        now = self._clock()
        with self._lock:
            late = [n for n, t in self._last.items() if now - t > self._max_age]
            ended = [f"{t.name} (ended)" for t in self._threads
                     if t.ident is not None and not t.is_alive()]
        return sorted(late + ended)

    def alive(self) -> bool:
        return not self.stale()


class HttpServer:
    """A threaded stdlib HTTP server with the operator's routes; `start()` / `stop()`."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        metrics: CollectorRegistry,
        hook_metrics: CollectorRegistry,
        ready: Probe,
        heartbeats: Heartbeats | None = None,
    ) -> None:
        self._address = (host, port)
        self._metrics = metrics
        self._hook_metrics = hook_metrics
        self._ready = ready
        self._heartbeats = heartbeats
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when 0 asked for an ephemeral one)."""
        if self._server is None:
            raise RuntimeError("the HTTP server is not started")
        return self._server.server_address[1]

    def start(self) -> None:
        """Bind and serve in a daemon thread; raises OSError naming the address if busy."""
        try:
            self._server = ThreadingHTTPServer(self._address, self._handler())
        except OSError as exc:
            host, port = self._address
            raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_SECONDS},
            name="http-server", daemon=True)
        self._thread.start()
        log.info("HTTP server listening on %s:%d", self._address[0], self.port)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, close the socket and wait for the serving thread; idempotent."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> HttpServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def respond(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a GET of `path`; the handler's only logic."""
        route = path.split("?", 1)[0].rstrip("/") or "/"
        if route == "/metrics":
            return 200, CONTENT_TYPE_LATEST, generate_latest(self._metrics)
        if route == "/metrics/hooks":
            return 200, CONTENT_TYPE_LATEST, generate_latest(self._hook_metrics)
        if route == "/healthz":
            stale = self._heartbeats.stale() if self._heartbeats else []
            if stale:
                return 503, "text/plain", f"stalled loops: {', '.join(stale)}\n".encode()
            return 200, "text/plain", b"ok\n"
        if route == "/readyz":
            if self._ready():
                return 200, "text/plain", b"Startup converge done.\n"
            return 503, "text/plain", b"Startup converge in progress.\n"
        if route == "/":
            return 200, "text/plain", _index(ROUTES)
        return 404, "text/plain", f"no route {route}; routes: {', '.join(ROUTES)}\n".encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (stdlib naming)
                try:
                    status, ctype, body = server.respond(self.path)
                except Exception as exc:  # a failing probe must not kill the listener
                    log.exception("HTTP %s failed", self.path)
                    status, ctype, body = 500, "text/plain", f"error: {exc}\n".encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                log.debug("HTTP %s", format % args)

        return Handler


def _index(routes: Iterable[str]) -> bytes:
    return ("addon-operator\n" + "".join(f"  {r}\n" for r in routes)).encode()
