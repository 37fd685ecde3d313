"""A failed run's status shows the error text itself: helm's whole error, a hook's last stderr
lines, several lines kept, bounded to `MESSAGE_LIMIT` characters with `ELLIPSIS` where cut; the
Ready and Reconciling/Stalled conditions carry the same text."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from addon_operator.helm.client import error_text
from addon_operator.helm.errors import HelmError
from addon_operator.status.messages import ELLIPSIS, HEAD_SHARE, MESSAGE_LIMIT, bounded
from addon_operator.status.module import ModuleState, build_module_status
from addon_operator.status.verdict import Failure

NOW = datetime(2024, 1, 1, tzinfo=timezone.utc)
HELM_STDERR = """walk.go:75: found symbolic link in path: /charts/x
Error: broken/templates/cm.yaml:6:15
  executing "broken/templates/cm.yaml" at <.Values.missing.deep>:
    nil pointer evaluating interface {}.deep

Use --debug flag to render out invalid YAML
"""


def test_short_text_keeps_its_lines_without_blank_ones() -> None:
    assert bounded("  first\n\n  second  \nthird\n") == "first\n  second\nthird"


def test_long_text_is_cut_in_the_middle_with_an_ellipsis() -> None:
    lines = [f"line {n:04d} " + "x" * 40 for n in range(100)]
    text = "\n".join(lines)
    cut = bounded(text)
    assert len(text) > MESSAGE_LIMIT and len(cut) == MESSAGE_LIMIT
    assert cut.count(ELLIPSIS) == 1
    head, tail = cut.split(ELLIPSIS)
    assert text.startswith(head) and len(head) == MESSAGE_LIMIT // HEAD_SHARE
    assert text.endswith(tail), "the end (the cause, the newest output) is kept"
    assert tail.endswith(lines[-1]) and "\n" in tail, "lines stay lines"


def test_a_limit_can_be_given() -> None:
    assert bounded("abcdefghij", limit=5) == "a…hij"
    assert bounded("abcde", limit=5) == "abcde"


def test_helm_error_carries_all_of_its_error_text() -> None:
    assert error_text(HELM_STDERR) == (
        "Error: broken/templates/cm.yaml:6:15\n"
        '  executing "broken/templates/cm.yaml" at <.Values.missing.deep>:\n'
        "    nil pointer evaluating interface {}.deep\n"
        "Use --debug flag to render out invalid YAML")
    assert error_text("no marker\nsecond line\n") == "no marker\nsecond line"
    text = str(HelmError("template", "broken", error_text(HELM_STDERR)))
    assert text.startswith("helm template broken failed: Error: broken/templates/cm.yaml:6:15\n")
    assert "nil pointer evaluating interface {}.deep" in text


def _status(message: str, failures: int = 1, stalled_after: int = 5) -> dict[str, Any]:
    state = ModuleState(name="m", generation=1, observed_generation=1, enabled=True,
                        settings_problems=[], last_error=Failure("HookFailed", message),
                        consecutive_failures=failures, stalled_after=stalled_after)
    return build_module_status(state, None, NOW)


def _cond(status: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == kind)


def test_the_status_message_holds_every_line_of_the_error() -> None:
    error = "hook hooks/check.sh (beforeHelm) failed: step 1\nstep 2\nstep 3: boom"
    status = _status(error)
    assert status["message"] == f"{error} (failed once; retrying with backoff)"
    assert _cond(status, "Ready")["message"] == error
    assert _cond(status, "Reconciling")["message"] == f"failed once; retrying with backoff: {error}"
    stalled = _status(error, failures=5)
    assert stalled["message"] == f"{error} (failed 5 times in a row; still retried, slowly)"
    assert _cond(stalled, "Stalled")["message"].endswith("step 3: boom")


def test_a_timed_out_hook_shows_its_stderr_not_a_dangling_label() -> None:
    error = ("hook hooks/slow.sh (beforeHelm) failed: hook timed out after 2 s and was killed; "
             "stderr:\nwaiting for the database")
    assert "stderr:\nwaiting for the database (failed once" in _status(error)["message"]


def test_a_huge_error_is_bounded_everywhere_and_keeps_its_end() -> None:
    error = "hook hooks/noisy.sh (beforeHelm) failed: " + "\n".join(
        f"noise {n} " + "y" * 60 for n in range(200)) + "\nthe real cause"
    status = _status(error)
    for text in (status["message"], _cond(status, "Ready")["message"],
                 _cond(status, "Reconciling")["message"]):
        assert len(text) == MESSAGE_LIMIT and ELLIPSIS in text
    assert status["message"].startswith("hook hooks/noisy.sh (beforeHelm) failed: noise 0")
    assert status["message"].endswith("the real cause (failed once; retrying with backoff)")
    assert _cond(status, "Ready")["message"].endswith("the real cause")
