"""An index build reports its progress from pg_stat_progress_create_index while it runs."""

from __future__ import annotations

from typing import Any

import pytest

from safemigrate.operations import progress
from safemigrate.postgres import catalog
from tests.conftest import run_safemigrate
from tests.operations.test_operations import populate

pytestmark = pytest.mark.django_db(transaction=True)


def test_progress_is_reported_while_the_index_builds(
    scenario: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings.SAFEMIGRATE = {"INDEX_PROGRESS_INTERVAL": "20ms"}
    scenario("safeops")
    run_safemigrate("scenarioapp", "0001")
    populate(300_000)
    readings: list[tuple[str, catalog.IndexProgress]] = []
    monkeypatch.setattr(progress, "listeners", [lambda name, r: readings.append((name, r))])

    with caplog.at_level("INFO", logger="safemigrate.progress"):
        run_safemigrate("scenarioapp", "0002")

    assert readings
    assert {name for name, _ in readings} == {"item_name_idx"}
    assert all(reading.phase for _, reading in readings)
    assert "Building index item_name_idx:" in caplog.text


def test_progress_is_off_with_a_zero_interval(
    scenario: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SAFEMIGRATE = {"INDEX_PROGRESS_INTERVAL": 0}
    scenario("safeops")
    run_safemigrate("scenarioapp", "0001")
    started: list[Any] = []
    monkeypatch.setattr(progress._Poller, "start", lambda self: started.append(self))

    run_safemigrate("scenarioapp", "0002")

    assert started == []


def test_reading_describes_its_phase_and_share() -> None:
    reading = catalog.IndexProgress("building index: scanning table", 50, 200, 0, 0)
    assert reading.describe() == "building index: scanning table 25%"
    assert catalog.IndexProgress("waiting for old snapshots", 0, 0, 3, 4).percent == 75.0
    assert catalog.IndexProgress("initializing", 0, 0, 0, 0).describe() == "initializing"
