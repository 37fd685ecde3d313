"""Request routing: one HTTP request in, one response (or a watch stream) out, without sockets.

`handler.py` parses the raw HTTP request into a `Request`, calls `Router.handle` and writes the
`Response`. The router resolves discovery, OpenAPI, fault-injection and resource paths, decodes
bodies (JSON, YAML, Kubernetes protobuf), calls `Api` or `watch.events`, and renders Tables for
`kubectl get`. Every `ApiError` becomes a `Status` body with its code.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from . import discovery, errors, openapi, protobuf, tables, watch
from .api import APPLY_PATCH, Api, WriteOptions
from .faults import Faults
from .resources import Registry, ResourceType
from .selectors import matcher

JSON = "application/json"
PROTOBUF = "application/vnd.kubernetes.protobuf"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
FAULTS_PREFIX = "/sandbox/faults"


@dataclass
class Request:
    method: str
    target: str  # path and query string as received
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path.rstrip("/") or "/"

    @property
    def query(self) -> dict[str, str]:
        parsed = parse_qs(urlsplit(self.target).query, keep_blank_values=True)
        return {key: values[-1] for key, values in parsed.items()}


@dataclass
class Response:
    status: int = 200
    body: Any = None
    content_type: str = JSON
    stream: Iterator[dict[str, Any]] | None = None

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Target:
    rtype: ResourceType
    namespace: str | None
    name: str | None
    subresource: str
    legacy_watch: bool


def _error(exc: errors.ApiError) -> Response:
    return Response(exc.code, exc.status())


def _not_found_path() -> errors.ApiError:
    return errors.ApiError(404, "NotFound", "the server could not find the requested resource")


def _is_true(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


class _OpenApiCache:
    """OpenAPI documents computed once per registry generation (they hash every group-version)."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._lock = threading.Lock()
        self._generation = -1
        self._docs: dict[str, Any] = {}

    def document(self, name: str, build: Callable[[list[dict[str, Any]]], Any]) -> Any:
        with self._lock:
            if self._generation != self._registry.generation:
                self._docs.clear()
                self._generation = self._registry.generation
            if name not in self._docs:
                self._docs[name] = build(self._specs())
            return self._docs[name]

    def _specs(self) -> list[dict[str, Any]]:
        return [
            {"group": r.group, "version": r.version, "kind": r.kind, "plural": r.plural,
             "namespaced": r.namespaced, "schema": r.schema}
            for r in self._registry.all()
        ]


class Router:
    """Maps requests onto discovery, OpenAPI, faults and the `Api` verbs."""

    def __init__(self, api: Api, faults: Faults, *, stopping: threading.Event, bookmark_interval: float) -> None:
        self.api = api
        self.registry = api.registry
        self.faults = faults
        self.stopping = stopping
        self.bookmark_interval = bookmark_interval
        self._openapi = _OpenApiCache(api.registry)

    def handle(self, request: Request, client_gone: Callable[[], bool] = lambda: False) -> Response:
        try:
            if request.path.startswith(FAULTS_PREFIX):
                return self._faults(request)
            self.faults.before_request(request.method, request.path)
            return self._route(request, client_gone)
        except errors.ApiError as exc:
            return _error(exc)
        except Exception as exc:  # a bug must not kill the connection without an answer
            message = f"internal error serving {request.method} {request.path}: {type(exc).__name__}: {exc}"
            return _error(errors.ApiError(500, "InternalError", message))

    def _faults(self, request: Request) -> Response:
        action = request.path[len(FAULTS_PREFIX):].strip("/")
        if request.method == "GET" and not action:
            return Response(200, self.faults.describe())
        if request.method != "POST":
            raise errors.method_not_allowed(f"{request.method} is not allowed on {request.path}; POST an action")
        body = json.loads(request.body) if request.body.strip() else {}
        return Response(200, self.faults.handle_http(action, body))

    def _route(self, request: Request, client_gone: Callable[[], bool]) -> Response:
        path, accept = request.path, request.headers.get("accept", "")
        parts = [p for p in path.split("/") if p]
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, "ok", "text/plain")
        if path == "/version":
            return Response(200, discovery.version_info())
        if parts[:1] == ["openapi"]:
            return self._openapi_response(parts[1:])
        if path in ("/api", "/apis"):
            if "as=APIGroupDiscoveryList" in accept and "v=v2;" in accept + ";":
                body = discovery.aggregated(self.registry, core=path == "/api")
                return Response(200, body, discovery.AGGREGATED_V2)
            legacy = discovery.api_versions() if path == "/api" else discovery.api_group_list(self.registry)
            return Response(200, legacy)
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) == 2:
            group_doc = discovery.api_group(self.registry, parts[1])
            if group_doc is None:
                raise _not_found_path()
            return Response(200, group_doc)
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise _not_found_path()
        if not rest:
            doc = discovery.resource_list(self.registry, group, version)
            if doc is None:
                raise _not_found_path()
            return Response(200, doc)
        target = self._resolve(group, version, rest)
        return self._dispatch(request, target, client_gone)

    def _openapi_response(self, parts: list[str]) -> Response:
        if parts == ["v2"]:
            return Response(200, self._openapi.document("v2", openapi.openapi_v2))
        if parts == ["v3"]:
            return Response(200, self._openapi.document("v3", openapi.openapi_v3_index))
        core_doc = parts[1:2] == ["api"] and len(parts) == 3
        group_doc = parts[1:2] == ["apis"] and len(parts) == 4
        if parts[:1] == ["v3"] and (core_doc or group_doc):
            group, version = ("", parts[2]) if parts[1] == "api" else (parts[2], parts[3])
            doc = self._openapi.document(
                "/".join(parts), lambda specs: openapi.openapi_v3_group_version(specs, group, version)
            )
            if doc is not None:
                return Response(200, doc)
        raise _not_found_path()

    def _resolve(self, group: str, version: str, rest: list[str]) -> Target:
        legacy_watch = rest[0] == "watch"
        if legacy_watch:
            rest = rest[1:]
        if len(rest) >= 3 and rest[0] == "namespaces":
            rtype = self.registry.lookup(group, version, rest[2])
            if rtype is not None and rtype.namespaced and len(rest) <= 5:
                return self._target(rtype, rest[1], rest[3:], legacy_watch)
        rtype = self.registry.lookup(group, version, rest[0]) if rest else None
        if rtype is None or len(rest) > 3 or (rtype.namespaced and len(rest) > 1):
            raise _not_found_path()
        return self._target(rtype, None, rest[1:], legacy_watch)

    @staticmethod
    def _target(rtype: ResourceType, namespace: str | None, rest: list[str], legacy_watch: bool) -> Target:
        name = rest[0] if rest else None
        subresource = rest[1] if len(rest) > 1 else ""
        if subresource and (subresource != "status" or not rtype.status_subresource):
            raise _not_found_path()
        return Target(rtype, namespace, name, subresource, legacy_watch)

    def _dispatch(self, request: Request, target: Target, client_gone: Callable[[], bool]) -> Response:
        rtype, method, query = target.rtype, request.method, request.query
        namespace = target.namespace if target.namespace is not None else ""
        options = WriteOptions(
            dry_run="All" in query.get("dryRun", ""),
            field_manager=query.get("fieldManager", ""),
        )
        wants_table = "as=Table" in request.headers.get("accept", "")
        if target.legacy_watch or (method == "GET" and target.name is None and _is_true(query.get("watch"))):
            return self._watch(request, target, client_gone, wants_table)
        if method == "GET" and target.name is not None:
            obj = self.api.get(rtype, namespace, target.name)
            return self._table([obj], rtype, query, {}) if wants_table else Response(200, obj)
        if method == "GET":
            match = matcher(query.get("labelSelector"), query.get("fieldSelector"))
            listed = self.api.list(rtype, target.namespace, match, limit=int(query.get("limit") or 0),
                                   continue_token=query.get("continue", ""))
            if wants_table:
                return self._table(listed["items"], rtype, query, listed["metadata"])
            return Response(200, listed)
        if method == "POST" and target.name is None:
            if rtype.namespaced and target.namespace is None:
                raise errors.method_not_allowed(f"create {rtype.plural} needs a namespace in the path")
            return Response(201, self.api.create(rtype, namespace, self._body(request), options))
        if method == "PUT" and target.name is not None:
            obj, created = self.api.update(rtype, namespace, target.name, self._body(request), options,
                                           target.subresource)
            return Response(201 if created else 200, obj)
        if method == "PATCH" and target.name is not None:
            patch_type = request.headers.get("content-type", "").split(";")[0].strip()
            body = self._patch_body(request, patch_type)
            obj, created = self.api.patch(rtype, namespace, target.name, patch_type, body, options,
                                          target.subresource)
            return Response(201 if created else 200, obj)
        if method == "DELETE":
            delete_options = self._delete_options(request)
            if target.name is None:
                match = matcher(query.get("labelSelector"), query.get("fieldSelector"))
                deleted = self.api.delete_collection(rtype, target.namespace, match, delete_options, options.dry_run)
                return Response(200, deleted)
            result = self.api.delete(rtype, namespace, target.name, delete_options, options.dry_run)
            pending = result.get("metadata", {}).get("deletionTimestamp") is not None and not options.dry_run
            return Response(202 if pending else 200, result)
        raise errors.method_not_allowed(
            f"the server does not allow this method on the requested resource ({method} {request.path})"
        )

    def _table(
        self, objects: list[dict[str, Any]], rtype: ResourceType, query: dict[str, str], list_meta: dict[str, Any]
    ) -> Response:
        columns = rtype.printer_columns if rtype.custom else tables.default_columns_for(rtype.kind)
        try:
            table = tables.build_table(objects, columns, include_object=query.get("includeObject") or "Metadata",
                                       list_meta=list_meta)
        except ValueError as exc:
            raise errors.bad_request(str(exc)) from exc
        return Response(200, table, TABLE)

    def _watch(
        self, request: Request, target: Target, client_gone: Callable[[], bool], wants_table: bool
    ) -> Response:
        query = request.query
        field_selector = query.get("fieldSelector", "")
        if target.name is not None:
            field_selector = ",".join(filter(None, [field_selector, f"metadata.name={target.name}"]))
        timeout = query.get("timeoutSeconds")
        req = watch.WatchRequest(
            rtype=target.rtype,
            namespace=target.namespace,
            match=matcher(query.get("labelSelector"), field_selector),
            resource_version=query.get("resourceVersion", ""),
            timeout=float(timeout) if timeout else None,
            bookmarks=_is_true(query.get("allowWatchBookmarks")),
            send_initial_events=_is_true(query.get("sendInitialEvents")),
        )
        if req.resource_version not in ("", "0"):
            watch.parse_resource_version(req.resource_version)
        epoch = self.faults.watch_epoch

        def should_stop() -> bool:
            return self.stopping.is_set() or self.faults.watch_epoch != epoch or client_gone()

        stream = watch.events(self.api.store, req, should_stop=should_stop, bookmark_interval=self.bookmark_interval)
        if wants_table:
            stream = self._table_events(stream, target.rtype, query)
        return Response(200, None, JSON, stream=stream)

    def _table_events(
        self, stream: Iterator[dict[str, Any]], rtype: ResourceType, query: dict[str, str]
    ) -> Iterator[dict[str, Any]]:
        for event in stream:
            if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                event = {"type": event["type"], "object": self._table([event["object"]], rtype, query, {}).body}
            yield event

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        content_type = request.headers.get("content-type", JSON).split(";")[0].strip()
        if content_type == PROTOBUF:
            try:
                return protobuf.decode_object(request.body)
            except protobuf.ProtobufError as exc:
                raise errors.ApiError(415, "UnsupportedMediaType", f"cannot decode the protobuf body: {exc}") from exc
        try:
            if content_type in ("application/yaml", "application/x-yaml"):
                body = yaml.safe_load(request.body)
            else:
                body = json.loads(request.body) if request.body.strip() else {}
        except (ValueError, yaml.YAMLError) as exc:
            raise errors.bad_request(f"cannot decode the {content_type} request body: {exc}") from exc
        if not isinstance(body, dict):
            raise errors.bad_request("the request body must be an object")
        return body

    @staticmethod
    def _patch_body(request: Request, patch_type: str) -> Any:
        try:
            if patch_type == APPLY_PATCH:
                return yaml.safe_load(request.body)
            return json.loads(request.body)
        except (ValueError, yaml.YAMLError) as exc:
            raise errors.bad_request(f"cannot decode the {patch_type} patch body: {exc}") from exc

    def _delete_options(self, request: Request) -> dict[str, Any]:
        """DeleteOptions from the body (JSON; an undecodable protobuf body counts as empty)."""
        if not request.body.strip():
            return {}
        if request.headers.get("content-type", "").startswith(PROTOBUF):
            return {}
        try:
            options = json.loads(request.body)
        except ValueError as exc:
            raise errors.bad_request(f"cannot decode DeleteOptions: {exc}") from exc
        return options if isinstance(options, dict) else {}
