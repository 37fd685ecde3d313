"""Kubernetes object operations written by hooks to `$KUBERNETES_PATCH_PATH`.

The hook-run code reads the file a successful hook left behind and calls, in this order:

    operations = parse_operations(text)          # everything validated, nothing applied yet
    apply_operations(operations, kube_client)     # in file order; stops at the first failure

Both raise `KubePatchError`, whose message names the operation (its 1-based number in the file,
its `operation`, kind, namespace and name) and the key or API error that failed, so the hook run
fails with it. `parse.py` reads the stream, `operations.py` validates one operation into a
dataclass, `apply.py` carries them out through our `KubeClient` (or a fake of it).
"""

from addon_operator.kubepatch.apply import PatchClient, apply_operations
from addon_operator.kubepatch.operations import (
    Create, Delete, JQPatch, JSONPatch, KubePatchError, MergePatch, Operation, Target,
)
from addon_operator.kubepatch.parse import parse_documents, parse_operations

__all__ = [
    "Create", "Delete", "JQPatch", "JSONPatch", "KubePatchError", "MergePatch", "Operation",
    "PatchClient", "Target", "apply_operations", "parse_documents", "parse_operations",
]
