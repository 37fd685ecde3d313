"""Status documents of Module and GlobalConfig objects, as pure functions of observed state.

The runtime fills `ModuleState` / `GlobalState` (with `HookState` per hook and Helm's
`ReleaseInfo`), builds the status with `build_module_status` / `build_global_status`, and
writes it through the status subresource only when `status_changed(old, new)` is true.
How tools read these documents (kstatus, `kubectl wait`) is docs/crd-reference.md, "How tools read
the status"; the tests check it with their own kstatus reader (`tests/kstatus.py`).
"""

from .conditions import status_changed
from .global_config import GlobalState, ModuleCounts, build_global_status, module_counts
from .hooks import HookResult, HookState
from .module import ModuleState, build_module_status, release_entry
from .verdict import Failure

__all__ = [
    "Failure",
    "GlobalState",
    "HookResult",
    "HookState",
    "ModuleCounts",
    "ModuleState",
    "build_global_status",
    "build_module_status",
    "module_counts",
    "release_entry",
    "status_changed",
]
