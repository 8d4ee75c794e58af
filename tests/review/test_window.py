"""Maintenance windows in a run: risky migrations run inside a window, or forced with a reason
the run history keeps; rollbacks always run. The clock is fixed: no test sleeps or depends on
today."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from safemigrate.exceptions import ExitCode
from safemigrate.models import Run
from safemigrate.review import window
from tests.conftest import run_safemigrate
from tests.review.test_window_times import WINDOWS

UTC = ZoneInfo("UTC")
#: Tuesday 1 December 2026, 14:00 and 22:30 in Paris (CET, UTC+1).
OUTSIDE = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
INSIDE = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    def stand_at(moment: datetime) -> None:
        monkeypatch.setattr(window, "now", lambda: moment)

    return stand_at


@pytest.fixture
def windowed(scenario: Any, settings: Any) -> None:
    scenario("window")
    run_safemigrate("scenarioapp", "0001")
    settings.SAFEMIGRATE = {"MAINTENANCE_WINDOWS": WINDOWS}


def applied() -> set[str]:
    recorder = MigrationRecorder(connection)
    return {name for app, name in recorder.applied_migrations() if app == "scenarioapp"}


def refused(**options: Any) -> str:
    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp", **options)
    assert raised.value.returncode == ExitCode.REFUSED
    return str(raised.value)


def test_outside_the_windows_a_risky_plan_is_refused_before_anything_runs(windowed, clock):
    clock(OUTSIDE)
    runs = Run.objects.count()

    message = refused()

    assert "it is Tue 2026-12-01 13:00 UTC, outside the maintenance windows" in message
    assert "\n  scenarioapp.0003_quantity_bigint: error-level finding SM104" in message
    assert "0002_item_note" not in message, "an instant catalog change needs no window"
    assert (
        "Maintenance windows: sat,sun 00:00-24:00 Europe/Paris; mon,tue,wed,thu,fri "
        "22:00-06:00 Europe/Paris. The next one opens Tue 2026-12-01 22:00 CET." in message
    )
    assert '--outside-window "why it cannot wait"' in message
    assert applied() == {"0001_initial"}
    assert Run.objects.count() == runs


def test_a_plan_without_risk_runs_at_any_time(windowed, clock):
    clock(OUTSIDE)

    run_safemigrate("scenarioapp", "0002")

    assert applied() == {"0001_initial", "0002_item_note"}
    assert Run.objects.latest("started_at").outside_window_reason == ""


def test_inside_a_window_a_risky_plan_runs(windowed, clock):
    clock(INSIDE)

    run_safemigrate("scenarioapp")

    assert "0003_quantity_bigint" in applied()


def test_a_forced_run_goes_through_and_the_history_keeps_its_reason(windowed, clock):
    clock(OUTSIDE)

    output = run_safemigrate("scenarioapp", outside_window="hotfix #4521", json=True)

    assert "0003_quantity_bigint" in applied()
    assert "outside the maintenance windows: hotfix #4521" in output.err
    assert Run.objects.latest("started_at").outside_window_reason == "hotfix #4521"
    assert json.loads(output.out)["outside_window_reason"] == "hotfix #4521"


def test_a_reason_given_inside_a_window_is_not_recorded(windowed, clock):
    clock(INSIDE)

    run_safemigrate("scenarioapp", outside_window="just in case")

    assert Run.objects.latest("started_at").outside_window_reason == ""


def test_a_rollback_is_never_refused(windowed, clock):
    clock(INSIDE)
    run_safemigrate("scenarioapp")
    clock(OUTSIDE)

    run_safemigrate("scenarioapp", "0001")

    assert applied() == {"0001_initial"}


def test_a_long_lock_needs_a_window_too(windowed, settings, clock):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO scenarioapp_item (name, quantity) "
            "SELECT 'item ' || g, g FROM generate_series(1, 50) g"
        )
        cursor.execute("ANALYZE scenarioapp_item")  # a small table: the rewrite is no error
    clock(OUTSIDE)
    settings.SAFEMIGRATE = {"MAINTENANCE_WINDOWS": WINDOWS, "MAINTENANCE_LONG_LOCK": 0}

    message = refused()

    assert "error-level" not in message
    assert (
        "scenarioapp.0003_quantity_bigint: ACCESS EXCLUSIVE lock on scenarioapp_item for <0.1s "
        "(until the migration's transaction commits)" in message
    )
    settings.SAFEMIGRATE = {"MAINTENANCE_WINDOWS": WINDOWS}  # the default: one second
    run_safemigrate("scenarioapp")
    assert "0003_quantity_bigint" in applied()


def test_allow_unsafe_skips_the_analysis_but_not_the_window(windowed, clock):
    clock(OUTSIDE)

    message = refused(allow_unsafe=True)

    assert "scenarioapp.0003_quantity_bigint: error-level finding SM104" in message


def test_faking_is_never_refused(windowed, clock):
    clock(OUTSIDE)

    run_safemigrate("scenarioapp", fake=True)

    assert "0003_quantity_bigint" in applied()


def test_an_empty_reason_is_a_usage_error(windowed, clock):
    clock(OUTSIDE)

    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp", outside_window="  ")

    assert raised.value.returncode == ExitCode.USAGE
    assert "--outside-window needs a reason" in str(raised.value)
    assert applied() == {"0001_initial"}


def test_no_windows_no_gate(scenario, clock):
    scenario("window")
    clock(OUTSIDE)

    run_safemigrate("scenarioapp")

    assert "0003_quantity_bigint" in applied()
