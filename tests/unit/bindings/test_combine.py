"""Combining queued runs of one hook and compacting same-group contexts."""

from __future__ import annotations

from binding_fakes import HOOK

from addon_operator.bindings import HookRef, RunRequest, absorbable, compact_groups
from addon_operator.hooks.contexts import GROUP, SCHEDULE, SYNCHRONIZATION, BindingContext


def sync(binding: str = "k", *, group: str | None = None, run_hook: bool = True,
         wait: bool = True, hook: HookRef = HOOK) -> RunRequest:
    context = BindingContext(binding, GROUP, group_name=group) if group else \
        BindingContext(binding, SYNCHRONIZATION)
    return RunRequest(hook, binding, "main", context, group=group, run_hook=run_hook, wait=wait,
                      synchronization=True)


def tick(binding: str = "s", *, group: str | None = None, hook: HookRef = HOOK) -> RunRequest:
    context = BindingContext(binding, GROUP, group_name=group) if group else \
        BindingContext(binding, SCHEDULE)
    return RunRequest(hook, binding, "main", context, group=group)


def test_unbroken_run_of_the_same_hook_only() -> None:
    other = HookRef("hooks/other.sh", "demo")
    assert absorbable(tick(), [tick("a"), tick("b"), tick(hook=other), tick("c")]) == 2
    assert absorbable(tick(), [tick()], version="v0") == 0


def test_synchronization_without_group_is_never_combined() -> None:
    assert absorbable(sync(), [tick()]) == 0
    assert absorbable(tick(), [tick("a"), sync(), tick("b")]) == 1
    assert absorbable(tick(), [sync(group="g", run_hook=False)]) == 0


def test_grouped_synchronizations_combine_while_wait_agrees() -> None:
    head = sync("a", group="g")
    assert absorbable(head, [sync("b", group="g"), tick(group="g")]) == 2
    assert absorbable(head, [sync("b", group="g", wait=False), tick()]) == 0


def test_group_compaction_keeps_the_last_of_each_consecutive_run() -> None:
    requests = [tick("a", group="g"), tick("b", group="g"), tick("c"), tick("d", group="g"),
                tick("e", group="h"), tick("f", group="h")]
    assert [r.binding for r in compact_groups(requests)] == ["b", "c", "d", "f"]
