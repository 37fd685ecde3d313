"""Throughput of the sandbox API server (not a test): requests/s for get, list and patch, and
events/s through a watch, with 10,000 ConfigMaps stored.

Run: `python benchmarks/sandbox_bench.py [--objects N]`. Clients are `bench_support.Api`:
keep-alive HTTP/1.1 connections from the standard library, so the figures measure the server,
not a client library.
The results are recorded in docs/sandbox.md.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "operator"))

from bench_support import Api  # noqa: E402
from kube_sandbox import SandboxServer  # noqa: E402

BASE = "/api/v1/namespaces/default/configmaps"
PATCHES = 5000  # merge-patches timed before the watch replays every event since the creates


def rate(label: str, count: int, action: Callable[[int], None], threads: int = 1) -> float:
    def worker(offset: int) -> None:
        for index in range(offset, count, threads):
            action(index)

    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    per_second = count / (time.perf_counter() - started)
    print(f"{label:<48} {per_second:>10,.0f}/s")
    return per_second


def count_events(port: int, path: str, expected: int, ready: threading.Event, result: list[float]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", path)
    response = conn.getresponse()
    ready.set()
    seen = 0
    started = 0.0
    while seen < expected:
        line = response.readline()
        if not line:
            raise RuntimeError(f"the watch {path} ended after {seen} of {expected} events")
        if not line.strip():
            continue
        if seen == 0:
            started = time.perf_counter()
        seen += 1
    result.append((expected - 1) / (time.perf_counter() - started) if expected > 1 else 0.0)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    args = parser.parse_args()
    n = args.objects
    # The replay needs the n creates and the patches still in the watch history.
    with SandboxServer(history_size=2 * n + PATCHES) as server:
        conn = Api(server.port)
        start_rv = conn.call("GET", BASE)["metadata"]["resourceVersion"]
        rate(f"create ConfigMap ({n})", n, lambda i: conn.call(
            "POST", BASE, {"metadata": {"name": f"cm-{i:05d}", "labels": {"group": str(i % 100)}}, "data": {"k": "v"}}))
        rate("get one ConfigMap", 5000, lambda i: conn.call("GET", f"{BASE}/cm-{i % n:05d}"))
        conns = [Api(server.port) for _ in range(4)]
        rate("get one ConfigMap, 4 clients", 5000, lambda i: conns[i % 4].call("GET", f"{BASE}/cm-{i % n:05d}"), threads=4)
        rate("list with label selector (100 of 10,000)", 200, lambda i: conn.call("GET", f"{BASE}?labelSelector=group%3D{i % 100}"))
        rate(f"list all ({n} objects per list)", 20, lambda i: conn.call("GET", BASE))
        rate("merge-patch one ConfigMap", PATCHES, lambda i: conn.call(
            "PATCH", f"{BASE}/cm-{i % n:05d}", {"data": {"k": str(i)}}, "application/merge-patch+json"))

        replay: list[float] = []
        count_events(server.port, f"{BASE}?watch=true&resourceVersion={start_rv}", n, threading.Event(), replay)
        print(f"{'watch replay of ' + str(n) + ' ADDED events':<48} {replay[0]:>10,.0f} events/s")

        live: list[float] = []
        ready = threading.Event()
        rv = conn.call("GET", f"{BASE}?limit=1")["metadata"]["resourceVersion"]
        watcher = threading.Thread(target=count_events, args=(server.port, f"{BASE}?watch=true&resourceVersion={rv}", n, ready, live))
        watcher.start()
        ready.wait()
        patcher = Api(server.port)
        for i in range(n):
            patcher.call("PATCH", f"{BASE}/cm-{i:05d}", {"data": {"k": "live"}}, "application/merge-patch+json")
        watcher.join()
        print(f"{'watch of live MODIFIED events (while patching)':<48} {live[0]:>10,.0f} events/s")


if __name__ == "__main__":
    main()
