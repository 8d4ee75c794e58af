"""The analysis before every run accepts the safe operations: none of them is refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management.base import CommandError

from tests.conftest import run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)


def lint(scenario_name: str, scenario: Any) -> str:
    scenario(scenario_name)
    try:
        return run_safemigrate("scenarioapp", lint=True, assume_production=True).out
    except CommandError as error:  # pragma: no cover - the failure message is the point
        pytest.fail(f"--lint refused {scenario_name}: {error}")


@pytest.mark.parametrize("name", ["safeops", "partitioned", "aliases"])
def test_lint_passes_every_safe_operation(scenario: Any, name: str) -> None:
    output = lint(name, scenario)
    assert "SM109" not in output  # ON ONLY builds nothing; CONCURRENTLY builds the rest
    assert "SM107" not in output  # dropping a column the state already forgot
    assert "SM108" not in output  # dropping a table the state already forgot
    assert "SM117" not in output  # the volatile default is filled in batches
