"""The `cluster` fixture of the end-to-end tests and the choice of target.

`--target=sandbox` (the default; env `E2E_TARGET`) gives each test a fresh sandbox API server
(`e2e_support.sandbox_cluster`); `--target=kind` gives each test the shared kind cluster with
the operator image installed (`kind_cluster.KindSession`; `--keep-cluster` keeps it afterwards).
On kind, tests marked `sandbox_only` and tests that do not use the `cluster` fixture skip, and
every test skips with the reason when docker or kind is missing, the Docker daemon does not
answer, or kind is older than the release of the pinned node image.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import kind_cluster
import kind_target
from e2e_support import Cluster, sandbox_cluster, tools_missing

TARGETS = ("sandbox", "kind")
HERE = Path(__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("e2e", "end-to-end target")
    group.addoption("--target", choices=TARGETS, default=None,
                    help="cluster the e2e scenarios run against (default: $E2E_TARGET or sandbox)")
    group.addoption("--keep-cluster", action="store_true",
                    help="kind target: keep the kind cluster after the run (it is reused next time)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sandbox_only(reason): the scenario cannot run on kind, "
                                       "for the reason given")


def e2e_target(config: pytest.Config) -> str:
    target = config.getoption("--target", default=None) or os.environ.get("E2E_TARGET") or "sandbox"
    if target not in TARGETS:
        raise pytest.UsageError(f"E2E_TARGET={target!r}: the e2e target is one of {', '.join(TARGETS)}")
    return target


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if e2e_target(config) != "kind":
        return
    missing = kind_target.tools_missing(shutil.which)
    for item in items:
        if HERE not in item.path.parents:
            continue
        marker = item.get_closest_marker("sandbox_only")
        if missing:
            item.add_marker(pytest.mark.skip(reason=missing))
        elif marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"sandbox only: {reason}"))
        elif "cluster" not in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.skip(
                reason="does not use the cluster fixture: the same on every target, run by the sandbox target"))


@pytest.fixture(scope="session")
def kind_session(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[kind_cluster.KindSession]:
    session = kind_cluster.KindSession(tmp_path_factory.mktemp("kind"),
                                       keep=bool(request.config.getoption("--keep-cluster", default=False)))
    problem = session.problem()
    if problem:
        pytest.skip(problem)
    try:
        session.up()
        yield session
    finally:
        session.down()


@pytest.fixture
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    if e2e_target(request.config) == "kind":
        session = request.getfixturevalue("kind_session")
        with session.cluster(tmp_path) as kind:
            yield kind
        return
    reason = tools_missing()
    if reason:
        pytest.skip(reason)
    with sandbox_cluster(tmp_path) as sandbox:
        yield sandbox
