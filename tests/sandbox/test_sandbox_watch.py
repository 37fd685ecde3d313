"""Watches through the official client: replay from a resourceVersion, selectors, bookmarks,
timeouts, and 410 Gone when the history window no longer covers the requested version."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException
from kubernetes.watch.watch import iter_resp_lines

from kube_sandbox import SandboxServer


def stream(core: client.CoreV1Api, count: int = 0, **kwargs: object) -> list[tuple[str, str, str]]:
    """(type, name, value of data.v) of the first `count` events (all until the server's 1 s
    timeout ends the watch when count is 0)."""
    events = []
    watcher = watch.Watch()
    for event in watcher.stream(core.list_namespaced_config_map, "default", timeout_seconds=1, **kwargs):
        obj = event["object"]
        events.append((event["type"], obj.metadata.name, (obj.data or {}).get("v", "")))
        if len(events) == count:
            watcher.stop()
    return events


def raw_events(response: Any, count: int) -> list[dict[str, Any]]:
    """The first `count` events of a raw watch response, decoded; closes the response."""
    events = []
    for line in iter_resp_lines(response):
        events.append(json.loads(line))
        if len(events) == count:
            break
    response.close()
    return events


def test_list_then_watch_from_resource_version(fresh_client: client.ApiClient) -> None:
    core = client.CoreV1Api(fresh_client)
    core.create_namespaced_config_map("default", {"metadata": {"name": "before"}})
    listed = core.list_namespaced_config_map("default")
    core.create_namespaced_secret("default", {"metadata": {"name": "other-kind"}})
    core.create_namespaced_config_map("default", {"metadata": {"name": "a"}, "data": {"v": "1"}})
    core.patch_namespaced_config_map("a", "default", {"data": {"v": "2"}})
    core.delete_namespaced_config_map("a", "default")
    assert stream(core, 3, resource_version=listed.metadata.resource_version) == [
        ("ADDED", "a", "1"), ("MODIFIED", "a", "2"), ("DELETED", "a", "2")]


def test_watch_without_version_starts_with_current_state(fresh_client: client.ApiClient) -> None:
    core = client.CoreV1Api(fresh_client)
    core.create_namespaced_config_map("default", {"metadata": {"name": "x"}, "data": {"v": "0"}})
    timer = threading.Timer(0.3, lambda: core.patch_namespaced_config_map("x", "default", {"data": {"v": "live"}}))
    timer.start()
    events = stream(core, 2)
    timer.join()
    assert events == [("ADDED", "x", "0"), ("MODIFIED", "x", "live")]


def test_selector_watch_sees_objects_leave_and_enter(fresh_client: client.ApiClient) -> None:
    core = client.CoreV1Api(fresh_client)
    start = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "s", "labels": {"on": "yes"}}})
    core.patch_namespaced_config_map("s", "default", {"metadata": {"labels": {"on": "no"}}})
    core.patch_namespaced_config_map("s", "default", {"metadata": {"labels": {"on": "yes"}}})
    core.create_namespaced_config_map("default", {"metadata": {"name": "other", "labels": {"on": "no"}}})
    core.create_namespaced_config_map("default", {"metadata": {"name": "last", "labels": {"on": "yes"}}})
    events = stream(core, 4, resource_version=start, label_selector="on=yes")
    assert [(t, n) for t, n, _ in events] == [("ADDED", "s"), ("DELETED", "s"), ("ADDED", "s"), ("ADDED", "last")]
    by_field = stream(core, 1, resource_version=start, field_selector="metadata.name=other")
    assert [(t, n) for t, n, _ in by_field] == [("ADDED", "other")]


def test_bookmarks_and_initial_events_end(fresh_sandbox: SandboxServer, fresh_client: client.ApiClient) -> None:
    core = client.CoreV1Api(fresh_client)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    response = core.list_namespaced_config_map("default", watch=True, allow_watch_bookmarks=True,
                                               resource_version=rv, timeout_seconds=5, _preload_content=False)
    (bookmark,) = raw_events(response, 1)
    assert bookmark["type"] == "BOOKMARK" and bookmark["object"]["metadata"]["resourceVersion"] == rv
    core.create_namespaced_config_map("default", {"metadata": {"name": "i"}})
    response = core.list_namespaced_config_map("default", watch=True, allow_watch_bookmarks=True, send_initial_events=True,
                                               resource_version_match="NotOlderThan", timeout_seconds=5,
                                               _preload_content=False)
    events = raw_events(response, 2)
    assert events[0]["type"] == "ADDED" and events[0]["object"]["metadata"]["name"] == "i"
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_expired_history_gives_410_gone(fresh_sandbox: SandboxServer, fresh_client: client.ApiClient) -> None:
    core = client.CoreV1Api(fresh_client)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "x"}})
    fresh_sandbox.faults.expire_history()
    with pytest.raises(ApiException) as gone:
        stream(core, resource_version=rv)
    assert gone.value.status == 410
    raw = core.list_namespaced_config_map("default", watch=True, resource_version=rv, _preload_content=False)
    (event,) = [json.loads(line) for line in raw.read().splitlines()]  # the server ends the stream
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
    current = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "y"}})
    assert stream(core, 1, resource_version=current) == [("ADDED", "y", "")]


def test_history_window_is_bounded(fresh_client: client.ApiClient) -> None:
    core = client.CoreV1Api(fresh_client)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    for index in range(120):  # fresh_sandbox keeps 50 to 100 changes
        core.create_namespaced_config_map("default", {"metadata": {"name": f"c{index}"}})
    with pytest.raises(ApiException) as gone:
        stream(core, resource_version=rv)
    assert gone.value.status == 410


def test_drop_watches_ends_open_streams(fresh_sandbox: SandboxServer, fresh_client: client.ApiClient) -> None:
    core = client.CoreV1Api(fresh_client)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    started = time.monotonic()
    threading.Timer(0.3, fresh_sandbox.faults.drop_watches).start()
    events = list(watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=rv,
                                       timeout_seconds=30, _request_timeout=30))
    assert events == [] and time.monotonic() - started < 5
