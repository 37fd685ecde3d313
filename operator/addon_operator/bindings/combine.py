"""Combining queued hook runs (as shell-operator and upstream do; docs/hooks.md,
"`kubernetes` and `schedule` bindings").

When a hook-run task reaches the head of its queue, the runtime passes its request and the
requests of the tasks right behind it in the same queue to `absorbable()`, removes the tasks it
counts, and runs the hook once with all their contexts. `compact_groups()` then keeps only the
last context of each run of consecutive same-group contexts (called by `snapshots.fill_contexts`,
so it also applies to a task that queue compaction merged: `runtime.binding_runs.merge_runs`).

Rules: only v1 hooks combine; only an unbroken run of requests of the same hook is taken;
a Synchronization without a group is never combined, neither as head nor as follower; a
Synchronization whose hook must not run (`executeHookOnSynchronization: false`) is never
combined; combining stops at a Synchronization whose `waitForSynchronization` differs from a
Synchronization head's.
"""

from __future__ import annotations

from collections.abc import Sequence

from .requests import RunRequest


def _alone(request: RunRequest) -> bool:
    return request.synchronization and (request.group is None or not request.run_hook)


def absorbable(head: RunRequest, following: Sequence[RunRequest], *, version: str = "v1"
               ) -> int:
    """How many of `following` (the requests queued right behind `head`, in order) join
    `head`'s run."""
    if version != "v1" or _alone(head):
        return 0
    count = 0
    for request in following:
        if request.hook != head.hook or _alone(request):
            break
        if head.synchronization and request.synchronization and request.wait != head.wait:
            break
        count += 1
    return count


def compact_groups(requests: Sequence[RunRequest]) -> list[RunRequest]:
    """Drop each request whose next request has the same non-empty group."""
    return [request for request, after in zip(requests, [*requests[1:], None])
            if request.group is None or after is None or after.group != request.group]
