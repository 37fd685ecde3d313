"""The operator's only door to the Kubernetes API: generic, dict-based calls on any resource.

This is the only module that imports the `kubernetes` package (for kubeconfig loading,
authentication and its connection pool). Controllers, the status writer, event posting and the
hook bindings call `KubeClient` with a `Resource` and plain dicts and catch the typed errors of
`kube/errors.py`; tests fake this class, never the `kubernetes` package.

Every single call is retried (`retry.api_retrying`: the operator's one retry policy, injected
sleep) when it got no answer, 429 or 5xx.
`watch()` wires `watching.list_then_watch()` to real HTTP streams: a server-side
`timeoutSeconds`, a client read timeout, and a small guard thread that shuts the socket down as
soon as `stop` is set, so a watcher thread ends promptly on SIGTERM.
"""

from __future__ import annotations

import builtins
import itertools
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import config as kube_config
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from addon_operator.kube import events, resources
from addon_operator.kube.errors import (
    NO_RESPONSE, KubeError, NotFound, error_from_response, no_response,
)
from addon_operator.kube.resources import EVENTS, Resource
from addon_operator.kube.retry import api_retrying
from addon_operator.kube.watching import Listing, WatchEvent, list_then_watch, split_lines

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"   # server-side apply; a JSON body is valid YAML
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
WATCH_TIMEOUT_SECONDS = 30       # server-side end of one watch request
WATCH_READ_MARGIN = 15.0         # client read timeout = timeoutSeconds + this
STOP_POLL_SECONDS = 0.2          # how often a watch guard looks for the end of its stream
EVENT_CACHE_SIZE = 512


class KubeConfigError(Exception):
    """No usable cluster configuration (names the file or the in-cluster variables)."""


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class KubeClient:
    """Generic access to API objects as dicts, with retries, watches, events and discovery."""

    def __init__(
        self,
        api: ApiClient,
        *,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 5,
        event_namespace: str = "default",
        watch_timeout_seconds: int = WATCH_TIMEOUT_SECONDS,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._api = api
        self._sleep = sleep
        self._attempts = attempts
        self._event_namespace = event_namespace
        self._watch_timeout = watch_timeout_seconds
        self._now = now
        self._serial = itertools.count()
        self._events: OrderedDict[events.EventKey, tuple[str, str, int]] = OrderedDict()
        self._events_lock = threading.Lock()
        self._discovery: dict[str, list[Resource]] = {}
        self._preferred: list[str] | None = None
        self._discovery_lock = threading.Lock()

    @classmethod
    def from_kubeconfig(cls, path: str | Path | None = None, **options: Any) -> KubeClient:
        """A client for `path`, else `$KUBECONFIG`, else the in-cluster service account, else
        `~/.kube/config`. `options` go to the constructor (sleep, attempts, ...)."""
        configuration = Configuration()
        source = str(path) if path else os.environ.get("KUBECONFIG", "")
        default_file = Path("~/.kube/config").expanduser()
        try:
            if source:
                kube_config.load_kube_config(config_file=source,
                                             client_configuration=configuration)
            elif os.environ.get("KUBERNETES_SERVICE_HOST"):
                kube_config.load_incluster_config(client_configuration=configuration)
            elif default_file.is_file():
                kube_config.load_kube_config(config_file=str(default_file),
                                             client_configuration=configuration)
            else:
                raise KubeConfigError(
                    "no cluster configuration: pass --kubeconfig, set KUBECONFIG, or run in a "
                    f"pod with a service account (KUBERNETES_SERVICE_HOST); {default_file} "
                    "does not exist either")
        except (ConfigException, OSError, ValueError) as exc:
            where = source or "the in-cluster service account"
            raise KubeConfigError(f"cannot load the cluster configuration from {where}: {exc}") \
                from exc
        configuration.retries = False  # every retry is ours (tenacity), with backoff
        return cls(ApiClient(configuration), **options)

    def close(self) -> None:
        self._api.close()

    # ---- objects ---------------------------------------------------------------------------

    def get(self, resource: Resource, name: str, *, namespace: str | None = None
            ) -> dict[str, Any]:
        return self._call("GET", resource.path(name, namespace=namespace),
                          what=resource.describe(name, namespace))

    def list(
        self,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> Listing:
        """All objects (of one namespace, or all) and the collection's resourceVersion."""
        body = self._call("GET", resource.path(namespace=namespace),
                          query=_selectors(label_selector, field_selector),
                          what=resource.describe(namespace=namespace))
        return Listing(list(body.get("items") or []),
                       str(body.get("metadata", {}).get("resourceVersion", "")))

    def create(self, resource: Resource, obj: dict[str, Any], *, namespace: str | None = None
               ) -> dict[str, Any]:
        namespace = namespace or (obj.get("metadata", {}).get("namespace") if
                                  resource.namespaced else None)
        return self._call("POST", resource.path(namespace=namespace), body=obj,
                          content_type=JSON,
                          what=resource.describe(obj.get("metadata", {}).get("name"), namespace))

    def update(self, resource: Resource, obj: dict[str, Any], *, namespace: str | None = None,
               subresource: str | None = None) -> dict[str, Any]:
        """Replace (PUT) the object named by `obj`'s metadata, or one of its subresources; the
        body's `metadata.resourceVersion` makes it conditional (409 `Conflict` when stale)."""
        name = str(obj.get("metadata", {}).get("name", ""))
        return self._call("PUT", resource.path(name, namespace=namespace,
                                               subresource=subresource),
                          body=obj, content_type=JSON,
                          what=_subresource(resource.describe(name, namespace), subresource))

    def patch_merge(self, resource: Resource, name: str, patch: dict[str, Any], *,
                    namespace: str | None = None, subresource: str | None = None
                    ) -> dict[str, Any]:
        """JSON merge patch (RFC 7386) of the object (or a subresource): `None` deletes keys."""
        return self._call("PATCH", resource.path(name, namespace=namespace,
                                                 subresource=subresource),
                          body=patch, content_type=MERGE_PATCH,
                          what=_subresource(resource.describe(name, namespace), subresource))

    def patch_json(self, resource: Resource, name: str,
                   operations: builtins.list[dict[str, Any]], *,
                   namespace: str | None = None, subresource: str | None = None
                   ) -> dict[str, Any]:
        """JSON patch (RFC 6902) of the object (or a subresource)."""
        return self._call("PATCH", resource.path(name, namespace=namespace,
                                                 subresource=subresource),
                          body=operations, content_type=JSON_PATCH,
                          what=_subresource(resource.describe(name, namespace), subresource))

    def apply(self, resource: Resource, obj: dict[str, Any], *,
              field_manager: str = "addon-operator", force: bool = True) -> dict[str, Any]:
        """Server-side apply of `obj` (created when missing); `force` takes over the fields
        another manager set, as a controller that owns these objects should."""
        meta = obj.get("metadata", {})
        name, namespace = str(meta.get("name", "")), meta.get("namespace") or None
        query = [("fieldManager", field_manager)] + ([("force", "true")] if force else [])
        return self._call("PATCH", resource.path(name, namespace=namespace), query=query,
                          body=obj, content_type=APPLY_PATCH,
                          what=resource.describe(name, namespace))

    def patch_status(self, resource: Resource, name: str, status: dict[str, Any], *,
                     namespace: str | None = None) -> dict[str, Any]:
        """Merge-patch `{"status": status}` through the status subresource (no generation
        bump, so our own status writes never look like spec changes)."""
        return self._call("PATCH",
                          resource.path(name, namespace=namespace, subresource="status"),
                          body={"status": status}, content_type=MERGE_PATCH,
                          what=resource.describe(name, namespace) + "/status")

    def delete(self, resource: Resource, name: str, *, namespace: str | None = None,
               ignore_not_found: bool = False, propagation_policy: str | None = None
               ) -> dict[str, Any] | None:
        """Delete the object; `propagation_policy` is `Foreground`, `Background` or `Orphan`
        (unset: the server's default for the kind)."""
        options = ({"kind": "DeleteOptions", "apiVersion": "v1",
                    "propagationPolicy": propagation_policy} if propagation_policy else None)
        try:
            return self._call("DELETE", resource.path(name, namespace=namespace), body=options,
                              content_type=JSON if options else None,
                              what=resource.describe(name, namespace))
        except NotFound:
            if ignore_not_found:
                return None
            raise

    # ---- watch -----------------------------------------------------------------------------

    def watch(
        self,
        resource: Resource,
        *,
        stop: threading.Event,
        resource_version: str | None = None,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> Iterator[WatchEvent]:
        """List then watch `resource` until `stop` is set (see `watching.list_then_watch`)."""
        selectors = _selectors(label_selector, field_selector)

        def list_objects() -> Listing:
            return self.list(resource, namespace=namespace, label_selector=label_selector,
                             field_selector=field_selector)

        def open_stream(rv: str) -> Iterator[dict[str, Any]]:
            return self._stream(resource, rv, namespace=namespace, selectors=selectors,
                                stop=stop)

        return list_then_watch(list_objects=list_objects, open_stream=open_stream, stop=stop,
                               sleep=self._sleep, resource_version=resource_version)

    def _stream(self, resource: Resource, rv: str, *, namespace: str | None,
                selectors: builtins.list[tuple[str, str]], stop: threading.Event
                ) -> Iterator[dict[str, Any]]:
        what = "watch " + resource.describe(namespace=namespace)
        query = [("watch", "true"), ("resourceVersion", rv), ("allowWatchBookmarks", "true"),
                 ("timeoutSeconds", str(self._watch_timeout)), *selectors]
        response = self._send("GET", resource.path(namespace=namespace), query=query,
                              timeout=(CONNECT_TIMEOUT, self._watch_timeout + WATCH_READ_MARGIN),
                              what=what)
        guard = _ShutdownOnStop(response, stop)
        try:
            for line in split_lines(_chunks(response)):
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise KubeError(NO_RESPONSE, "InvalidWatchEvent",
                                    f"{exc}: {line[:200]!r}", what=what) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if not stop.is_set():
                raise no_response(exc, what=what) from exc
        finally:
            guard.finish()
            response.close()

    # ---- events ----------------------------------------------------------------------------

    def post_event(self, involved: dict[str, Any], *, type: str, reason: str, message: str,
                   component: str = "addon-operator") -> dict[str, Any]:
        """Record a core/v1 Event about `involved`; a repeat of an identical event (same
        object, type, reason, message) bumps the existing Event's `count` instead."""
        ref = events.involved_reference(involved)
        namespace = ref.get("namespace") or self._event_namespace
        key = events.aggregation_key(ref, type, reason, message, component)
        now = self._now()
        with self._events_lock:
            known = self._events.get(key)
        if known is not None:
            ns, name, count = known
            try:
                event = self.patch_merge(
                    EVENTS, name, {"count": count + 1, "lastTimestamp": events.timestamp(now)},
                    namespace=ns)
                self._remember_event(key, ns, name, count + 1)
                return event
            except NotFound:
                pass  # expired or deleted: record it afresh
        name = events.event_name(ref["name"], int(now.timestamp() * 1e9), next(self._serial))
        body = events.event_body(ref, name=name, namespace=namespace, type_=type, reason=reason,
                                 message=message, component=component, now=now)
        event = self.create(EVENTS, body, namespace=namespace)
        self._remember_event(key, namespace, name, 1)
        return event

    def _remember_event(self, key: events.EventKey, namespace: str, name: str, count: int
                        ) -> None:
        with self._events_lock:
            self._events[key] = (namespace, name, count)
            self._events.move_to_end(key)
            while len(self._events) > EVENT_CACHE_SIZE:
                self._events.popitem(last=False)

    # ---- discovery -------------------------------------------------------------------------

    def resolve_kind(self, api_version: str | None, kind_or_plural: str) -> Resource:
        """The resource for a kind, plural, singular or short name (any case), in
        `api_version` or, without one, in the preferred version of every group (core first).
        Discovery is cached and refreshed once on a miss (CRDs appear at run time)."""
        for refresh in (False, True):
            found = resources.match(self._discovered(api_version, refresh), kind_or_plural)
            if found is not None:
                return found
        where = f"API version {api_version!r}" if api_version else "any API group"
        raise NotFound(404, "NotFound", f"no resource type {kind_or_plural!r} in {where}",
                       what="discovery")

    def _discovered(self, api_version: str | None, refresh: bool) -> builtins.list[Resource]:
        with self._discovery_lock:
            if refresh:
                self._discovery.clear()
                self._preferred = None
            if api_version:
                versions = [api_version]
            else:
                if self._preferred is None:
                    self._preferred = resources.preferred_versions(
                        self._call("GET", "/apis", what="discovery /apis"))
                versions = ["v1", *self._preferred]
            return [r for gv in versions for r in self._group_version(gv)]

    def _group_version(self, group_version: str) -> builtins.list[Resource]:
        if group_version not in self._discovery:
            path = f"/apis/{group_version}" if "/" in group_version else f"/api/{group_version}"
            try:
                listing = self._call("GET", path, what=f"discovery {path}")
            except NotFound:
                listing = {}
            self._discovery[group_version] = resources.resources_of(listing)
        return self._discovery[group_version]

    # ---- HTTP ------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, what: str,
              query: builtins.list[tuple[str, str]] | None = None, body: Any = None,
              content_type: str | None = None) -> dict[str, Any]:
        """One API call with retries; the parsed JSON answer."""
        retrying = api_retrying(attempts=self._attempts, sleep=self._sleep)

        def attempt() -> dict[str, Any]:
            response = self._send(method, path, query=query, body=body,
                                  content_type=content_type,
                                  timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), what=what)
            try:
                data = response.data
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise no_response(exc, what=what) from exc
            try:
                parsed = json.loads(data) if data else {}
            except ValueError as exc:
                raise KubeError(response.status, "InvalidResponse",
                                f"not JSON: {data[:200]!r}", what=what) from exc
            return parsed if isinstance(parsed, dict) else {"items": parsed}

        result: dict[str, Any] = retrying(attempt)
        return result

    def _send(self, method: str, path: str, *, what: str,
              query: builtins.list[tuple[str, str]] | None = None, body: Any = None,
              content_type: str | None = None,
              timeout: tuple[float, float]) -> urllib3.BaseHTTPResponse:
        """One HTTP request; the unread response on success, a typed error otherwise."""
        headers = {"Accept": JSON}
        if content_type:
            headers["Content-Type"] = content_type
        request = self._api.param_serialize(method=method, resource_path=path,
                                            query_params=query or None, header_params=headers,
                                            body=body, auth_settings=["BearerToken"])
        try:
            # RESTResponse.response is untyped in the kubernetes package: urllib3's response.
            response: urllib3.BaseHTTPResponse = self._api.call_api(
                *request, _request_timeout=timeout).response
        except ApiException as exc:  # TLS failures are reported this way
            raise KubeError(NO_RESPONSE, "TLSError", str(exc.reason), what=what) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise no_response(exc, what=what) from exc
        if response.status >= 400:
            try:
                data = response.data
            except (urllib3.exceptions.HTTPError, OSError):
                data = b""
            raise error_from_response(response.status, response.reason or "", data, what=what,
                                      retry_after=response.headers.get("Retry-After"))
        return response


class _ShutdownOnStop:
    """Interrupts a blocking read of one watch response as soon as `stop` is set."""

    def __init__(self, response: urllib3.BaseHTTPResponse, stop: threading.Event) -> None:
        self._response = response
        self._stop = stop
        self._lock = threading.Lock()
        self._open = True
        threading.Thread(target=self._run, name="watch-stop-guard", daemon=True).start()

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(STOP_POLL_SECONDS)
            with self._lock:
                if not self._open:
                    return
                if stopping:
                    try:
                        self._response.shutdown()
                    except (ValueError, RuntimeError, OSError):
                        pass  # already closed or released: the reader is finishing anyway
                    return

    def finish(self) -> None:
        with self._lock:
            self._open = False


def _chunks(response: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
    """Bytes as they arrive: per HTTP chunk, or whatever is available without chunking."""
    if response.chunked:
        yield from response.stream(None)
        return
    while chunk := response.read1(65536):
        yield chunk


def _subresource(what: str, subresource: str | None) -> str:
    return f"{what}/{subresource}" if subresource else what


def _selectors(label_selector: str | None, field_selector: str | None) -> list[tuple[str, str]]:
    query = []
    if label_selector:
        query.append(("labelSelector", label_selector))
    if field_selector:
        query.append(("fieldSelector", field_selector))
    return query
