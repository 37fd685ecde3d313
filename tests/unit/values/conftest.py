"""Fixtures of the values-engine tests: the real schemas under testdata/."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from addon_operator.values import Schemas

TESTDATA = Path(__file__).parent / "testdata"


@pytest.fixture
def load() -> Callable[[str], Any]:
    """Read one YAML file of testdata/."""
    return lambda name: yaml.safe_load((TESTDATA / name).read_text())


@pytest.fixture
def schemas(load: Callable[[str], Any]) -> Schemas:
    """The prepared schemas of the cert-manager-like test module."""
    return Schemas.load(
        load("config-values.yaml"), load("values.yaml"), owner="module certManager"
    )
