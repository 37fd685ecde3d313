"""The Kubernetes API adapter: the engine above it works on plain dicts.

`client.py` is the only module of the operator that imports the `kubernetes` package; the other
modules here are pure (errors, resource types and discovery documents, the list-then-watch
algorithm, Event bodies, the one retry policy of `retry.py`). Callers import from this package:

    from addon_operator.kube import KubeClient, MODULES, NotFound, SYNC
"""

from addon_operator.kube.client import KubeClient, KubeConfigError
from addon_operator.kube.errors import Conflict, Gone, KubeError, NotFound
from addon_operator.kube.events import NORMAL, WARNING
from addon_operator.kube.resources import (
    EVENTS, GLOBAL_CONFIGS, MODULES, NAMESPACES, Resource, split_api_version,
)
from addon_operator.kube.retry import BACKOFF, watch_forever
from addon_operator.kube.watching import (
    ADDED, DELETED, MODIFIED, RELIST, SYNC, Listing, WatchEvent,
)

__all__ = [
    "ADDED", "BACKOFF", "DELETED", "EVENTS", "GLOBAL_CONFIGS", "MODIFIED", "MODULES",
    "NAMESPACES", "NORMAL", "RELIST", "SYNC", "WARNING", "Conflict", "Gone", "KubeClient",
    "KubeConfigError", "KubeError", "Listing", "NotFound", "Resource", "WatchEvent",
    "split_api_version", "watch_forever",
]
