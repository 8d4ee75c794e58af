"""Backfill settings, their system checks, the listing and the admin's controls."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from safemigrate import checks
from safemigrate.backfill.batches import Sizer
from safemigrate.backfill.progress import Progress, format_seconds
from safemigrate.conf import conf
from safemigrate.models import BackfillRequest, BackfillState, BackfillStatus
from tests.backfill.backfill_helpers import FAST, NAME, seed
from tests.conftest import run_safemigrate


def ids(messages):
    return [message.id for message in messages]


def test_defaults():
    assert conf.backfill_batch_size == 1000
    assert conf.backfill_target_batch_time_ms == 50
    assert conf.transition_batch_time_ms == 10
    assert conf.backfill_pause_ms == 5
    assert conf.backfill_max_replication_lag_ms == 10_000
    assert conf.backfill_max_transaction_age_ms == 600_000
    assert conf.backfill_mode == "inline"


def test_limits_can_be_switched_off(settings):
    settings.SAFEMIGRATE = {"BACKFILL_MAX_REPLICATION_LAG": None}

    assert conf.backfill_max_replication_lag_ms is None
    assert ids(checks.check_settings()) == []


def test_tasks_mode_needs_the_tasks_framework(settings, monkeypatch):
    settings.SAFEMIGRATE = {"BACKFILL_MODE": "tasks-wait"}
    assert ids(checks.check_backfill_tasks()) == []
    monkeypatch.setattr(checks, "tasks_framework_error", lambda: "no tasks here.")

    [error] = checks.check_backfill_tasks()

    assert error.id == "safemigrate.E048"
    assert "no tasks here." in error.hint


def test_tasks_mode_needs_a_configured_backend(settings):
    settings.SAFEMIGRATE = {"BACKFILL_MODE": "tasks-pending", "BACKFILL_TASK_BACKEND": "fleet"}

    assert ids(checks.check_backfill_tasks()) == ["safemigrate.E049"]


def test_first_batch_above_the_maximum_warns(settings):
    settings.SAFEMIGRATE = {"BACKFILL_BATCH_SIZE": 5000, "BACKFILL_MAX_BATCH_SIZE": 100}

    assert ids(checks.check_backfill_sizes()) == ["safemigrate.W040"]


@pytest.mark.django_db(transaction=True)
def test_listing_shows_progress(scenario, settings):
    settings.SAFEMIGRATE = FAST
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")
    seed(300)
    run_safemigrate("scenarioapp")

    listing = run_safemigrate(backfills=True).out.splitlines()

    assert listing[0].split() == ["NAME", "DIRECTION", "STATUS", "MODE", "PROGRESS", "UPDATED"]
    assert listing[1].startswith(f"{NAME}  forwards   done")
    assert "300/300 rows (100%)" in listing[1]


@pytest.mark.django_db(transaction=True)
def test_admin_actions_pause_resume_and_cancel(client):
    admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(admin)
    backfill = BackfillState.objects.create(
        name=NAME,
        direction="forwards",
        app_label="scenarioapp",
        migration="0002_backfill_price_cents",
        operation_index=0,
        status=BackfillStatus.RUNNING,
    )
    url = reverse("admin:safemigrate_backfillstate_changelist")

    for action, expected in (("pause", "pause"), ("resume", ""), ("cancel", "cancel")):
        response = client.post(url, {"action": action, "_selected_action": [backfill.pk]})
        assert response.status_code == 302
        backfill.refresh_from_db()
        assert backfill.request == expected
    assert BackfillRequest(backfill.request) == BackfillRequest.CANCEL


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere(monkeypatch):
    backfill = BackfillState(name=NAME, rows_estimated=1000, batch_size=100)
    lines: list[str] = []
    terminal = Terminal()
    bar = Progress(backfill, lines.append, terminal)
    plain = Progress(backfill, lines.append, io.StringIO())
    monkeypatch.setattr("safemigrate.backfill.progress.LOG_EVERY_S", 0.0)

    backfill.rows_done = 400
    bar.update(backfill)
    plain.update(backfill)
    bar.note("waiting")
    bar.close(backfill)

    assert f"backfill {NAME}" in terminal.getvalue()
    assert "40%" in terminal.getvalue()
    assert "waiting" in terminal.getvalue()
    assert lines[0].startswith(f"backfill {NAME}: 400/1,000 rows (40%), ")
    assert "ETA" in lines[0]
    assert lines[-1].startswith(f"backfill {NAME}: pending, 400 rows")


def test_durations_read_like_a_clock():
    assert [format_seconds(s) for s in (5, 65, 3725)] == ["5s", "1m05s", "1h02m"]


def test_batch_size_follows_the_target_time(settings):
    settings.SAFEMIGRATE = {"BACKFILL_TARGET_BATCH_TIME": "100ms", "BACKFILL_MAX_BATCH_SIZE": 5000}
    sizer = Sizer(1000)

    sizer.after_batch(10.0, 1000)  # Ten times too fast: at most double.
    assert sizer.size == 2000
    sizer.after_batch(20.0, 2000)
    assert sizer.size == 4000
    sizer.after_batch(40.0, 4000)  # Capped by BACKFILL_MAX_BATCH_SIZE.
    assert sizer.size == 5000
    sizer.after_batch(400.0, 5000)  # Far too slow: at most halve, at once.
    assert sizer.size == 2500
    sizer.halve()
    assert sizer.size == 1250


def test_a_transitions_batches_aim_at_their_own_target_time(settings):
    settings.SAFEMIGRATE = {"TRANSITION_BATCH_TIME": "20ms", "BACKFILL_TARGET_BATCH_TIME": "80ms"}
    sizer = Sizer(1000, conf.transition_batch_time_ms)

    sizer.after_batch(40.0, 1000)  # Twice the transition's target: half the rows next time.
    assert sizer.size == 500
