"""Fixtures of the binding engine tests (the fakes live in `binding_fakes.py`)."""

from __future__ import annotations

import pytest
from binding_fakes import FakeKube, Later, Recorder

from addon_operator.bindings import WatchHub


@pytest.fixture
def kube() -> FakeKube:
    return FakeKube()


@pytest.fixture
def hub(kube: FakeKube) -> WatchHub:
    return WatchHub(kube, spawn=lambda target, name: None)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def later() -> Later:
    return Later()
