"""Fixtures of the runtime's unit tests (fakes and builders in `runtime_fakes.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime_fakes import FakeKube


@pytest.fixture
def modules_root(tmp_path: Path) -> Path:
    root = tmp_path / "modules"
    root.mkdir()
    return root


@pytest.fixture
def kube() -> FakeKube:
    return FakeKube()
