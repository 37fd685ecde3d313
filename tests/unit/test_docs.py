"""The user documentation (`docs/*.md`, `README.md`) stays true to the code.

- every environment variable and flag in docs/operations.md is one the code reads, and every
  setting the settings modules read is documented there;
- every `addon_operator_*` metric name in the docs is one the metrics package exposes, and
  operations.md lists every operator metric;
- every condition reason in docs/crd-reference.md is one the status builders can produce (for
  the failure reasons the runtime hands them), and every such reason is documented;
- every relative link resolves to a file or directory, and every `#anchor` to a heading.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from addon_operator import enablement
from addon_operator.cli import build_parser
from addon_operator.helm.release import ReleaseInfo
from addon_operator.metrics import OperatorMetrics
from addon_operator.status import (
    Failure, GlobalState, HookResult, HookState, ModuleState, build_global_status,
    build_module_status,
)
from addon_operator.status import module as module_status
from addon_operator.status import verdict

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PACKAGE = ROOT / "operator" / "addon_operator"
OPERATIONS = DOCS / "operations.md"
CRD_REFERENCE = DOCS / "crd-reference.md"
# The modules that read the operator's settings from the environment. (`httpserver.py` also has
# a reader, `listen_address()`, but the runtime takes the listen address from `options.py`.)
SETTINGS_MODULES = ("runtime/options.py", "settings.py", "logs.py", "leader.py",
                    "metrics/runtime.py")
ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|KUBECONFIG")
BACKTICKED = re.compile(r"`([^`\n]+)`")
METRIC_NAME = re.compile(r"\baddon_operator_[a-z0-9_]+")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
HELM_STATUSES = ("deployed", "failed", "pending-install", "pending-upgrade", "pending-rollback",
                 "uninstalling", "uninstalled", "superseded", "unknown")


def doc_pages() -> list[Path]:
    return sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]


# ---- settings ------------------------------------------------------------------------------

def string_constants(path: Path) -> set[str]:
    """String literals of a Python file, docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings}


def env_names(texts: set[str]) -> set[str]:
    return {t for t in texts if ENV_NAME.fullmatch(t)}


def documented_env_vars() -> set[str]:
    return env_names(set(BACKTICKED.findall(OPERATIONS.read_text())))


def test_every_env_var_in_operations_md_is_read_by_the_code() -> None:
    in_code: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        in_code |= string_constants(path)
    documented = documented_env_vars()
    assert {"ADDON_OPERATOR_NAMESPACE", "LOG_LEVEL", "ADDON_OPERATOR_HA"} <= documented
    assert sorted(documented - in_code) == []


def test_every_setting_the_code_reads_is_in_operations_md() -> None:
    read: set[str] = set()
    for module in SETTINGS_MODULES:
        read |= env_names(string_constants(PACKAGE / module))
    assert {"ADDON_OPERATOR_LISTEN_PORT", "HELM_TIMEOUT", "KUBECONFIG"} <= read
    assert sorted(read - documented_env_vars()) == []


def test_the_flags_in_operations_md_are_the_flags_of_run() -> None:
    subcommands = next(a for a in build_parser()._actions if a.dest == "command")
    run = subcommands.choices["run"]  # type: ignore[attr-defined]
    flags = {o for action in run._actions for o in action.option_strings if o.startswith("--")}
    flags.discard("--help")
    documented = {t for t in BACKTICKED.findall(OPERATIONS.read_text())
                  if re.fullmatch(r"--[a-z-]+", t)}
    assert documented == flags


# ---- metrics -------------------------------------------------------------------------------

def exposed_metric_names() -> dict[str, set[str]]:
    """Family name → every sample name it exposes (with the default prefix)."""
    registry = CollectorRegistry()
    OperatorMetrics(registry)
    names: dict[str, set[str]] = {}
    for family in registry.collect():
        if family.type == "counter":
            names[family.name] = {family.name + "_total"}
        elif family.type == "histogram":
            names[family.name] = {family.name + s for s in ("", "_bucket", "_sum", "_count")}
        else:
            names[family.name] = {family.name}
    return names


def test_every_metric_name_in_the_docs_is_exposed() -> None:
    valid = set().union(*exposed_metric_names().values())
    unknown = {(page.name, name) for page in doc_pages()
               for name in METRIC_NAME.findall(page.read_text()) if name not in valid}
    assert sorted(unknown) == []


def test_operations_md_lists_every_operator_metric() -> None:
    text = OPERATIONS.read_text()
    missing = [family for family, names in exposed_metric_names().items()
               if not any(re.search(rf"`{name}`", text) for name in names)]
    assert missing == []


# ---- condition reasons ---------------------------------------------------------------------

def runtime_failure_reasons() -> set[str]:
    """The reasons the runtime gives `RunFailed` (literals or `status.verdict` constants)."""
    reasons = set()
    for path in (PACKAGE / "runtime").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "RunFailed":
                first = node.args[0]
                if isinstance(first, ast.Constant):
                    reasons.add(first.value)
                elif isinstance(first, ast.Name):
                    reasons.add(getattr(verdict, first.id))
    return reasons


def hook_sets() -> Iterator[dict[str, HookState]]:
    yield {}
    for result in (None, *HookResult):
        yield {"h": HookState("h", last_result=result)}


def producible_reasons() -> set[str]:
    """Every condition reason the builders give over a grid of states."""
    now = datetime.now(timezone.utc)
    failures = [None] + [Failure(r, "it broke") for r in sorted(runtime_failure_reasons())]
    releases = [None] + [ReleaseInfo("m", "ns", 1, s, "c", "1") for s in HELM_STATUSES]
    helm_reasons = ["", module_status.INSTALL_SUCCEEDED, module_status.UPGRADE_SUCCEEDED,
                    module_status.UP_TO_DATE, module_status.UNLOCKED, module_status.UNINSTALLED,
                    module_status.INSTALL_FAILED, module_status.UPGRADE_FAILED,
                    module_status.RENDER_FAILED, module_status.UNINSTALL_FAILED]
    statuses = []
    for known, suspended, enabled, problems, failure, count, busy in itertools.product(
            (True, False), (True, False), (None, True, False), (None, [], ["x: bad"]), failures,
            (1, 5), (True, False)):
        state = ModuleState("m", 1, observed_generation=1, applied_generation=1, module_known=known, suspended=suspended, enabled=enabled,
                            settings_problems=problems, last_error=failure,
                            consecutive_failures=count, reconciling=busy)
        statuses.append(build_module_status(state, None, now))
    for chart, release, helm_reason in itertools.product((True, False), releases, helm_reasons):
        state = ModuleState("m", 1, observed_generation=1, applied_generation=1, enabled=True, has_chart=chart, release=release,
                            helm_reason=helm_reason)
        statuses.append(build_module_status(state, None, now))
    for hooks, enabled in itertools.product(hook_sets(), (None, True, False)):
        statuses.append(build_module_status(ModuleState("m", 1, observed_generation=1, applied_generation=1, enabled=enabled, hooks=hooks),
                                            None, now))
    for reason in enablement.Reason:
        state = ModuleState("m", 1, observed_generation=1, applied_generation=1, enabled=True, enabled_reason=reason)
        statuses.append(build_module_status(state, None, now))
    for problems, failure, count, busy, converged, hooks in itertools.product(
            (None, [], ["x: bad"]), failures, (1, 5), (True, False), (True, False), hook_sets()):
        state = GlobalState(1, settings_problems=problems, last_error=failure,
                            consecutive_failures=count, reconciling=busy, converged=converged,
                            hooks=hooks)
        statuses.append(build_global_status(state, None, now))
    return {c["reason"] for status in statuses for c in status["conditions"]}


def documented_reasons() -> set[str]:
    """Backticked words in the `Reason` column of crd-reference.md's tables."""
    reasons: set[str] = set()
    column = None
    for line in CRD_REFERENCE.read_text().splitlines():
        if not line.startswith("|"):
            column = None
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if column is None:
            column = cells.index("Reason") if "Reason" in cells else -1
        elif column >= 0 and not set(cells[column]) <= set("-: "):
            reasons |= set(BACKTICKED.findall(cells[column]))
    return reasons


@pytest.fixture(scope="module")
def producible() -> set[str]:
    return producible_reasons()


def test_every_documented_reason_can_be_produced(producible: set[str]) -> None:
    documented = documented_reasons()
    assert {"Disabled", "ProgressingWithRetry", "ModuleSpec", "UpToDate"} <= documented
    assert sorted(documented - producible) == []


def test_every_producible_reason_is_documented(producible: set[str]) -> None:
    assert sorted(producible - documented_reasons()) == []


# ---- links ---------------------------------------------------------------------------------

def slugs(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats
    numbered."""
    seen: dict[str, int] = {}
    result = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *$", FENCE.sub("", markdown), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def relative_links() -> Iterator[tuple[Path, str]]:
    for page in doc_pages():
        for target in LINK.findall(FENCE.sub("", page.read_text())):
            if not re.match(r"[a-z]+:", target):
                yield page, target


def test_every_relative_link_resolves() -> None:
    broken = []
    for page, target in relative_links():
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.exists():
            broken.append(f"{page.name}: {target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in slugs(resolved.read_text()):
            broken.append(f"{page.name}: {target}: no such heading")
    assert broken == []


def test_the_link_check_sees_the_docs_links() -> None:
    targets = {(page.name, target) for page, target in relative_links()}
    assert ("README.md", "hooks.md") in targets
    assert ("hooks.md", "#values-patches") in targets
