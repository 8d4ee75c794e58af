"""Fixtures of the operations' tests."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SCENARIOS = Path(__file__).parents[1] / "scenarios"


@pytest.fixture
def copy_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario: Any, settings: Any
) -> Callable[[str], Path]:
    """Copy a scenario into an importable temporary package that ``--fix`` may rewrite,
    never the real one, and point ``scenarioapp`` at it."""

    def copy(name: str) -> Path:
        package = f"{name}_{uuid.uuid4().hex[:8]}"
        shutil.copytree(SCENARIOS / name, tmp_path / package)
        monkeypatch.syspath_prepend(str(tmp_path))
        settings.MIGRATION_MODULES = {**settings.MIGRATION_MODULES, "scenarioapp": package}
        return tmp_path / package

    return copy
