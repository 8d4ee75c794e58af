"""The live-process gate: a post-deploy migration waits for every live process to ship it.

Rows are written by the real heartbeat code, computing what the code on disk ships (the
``phases`` scenario, or ``phases_old`` without its post-deploy migration), and by a real
web process in a subprocess.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

import pytest
from django.core.management.base import CommandError
from django.db import connection

from safemigrate.deploy import heartbeat
from safemigrate.deploy.heartbeat import Heartbeat, disabled_reason
from safemigrate.models import AppProcess
from tests.backfill.backfill_helpers import ROOT, database_url, wait_for
from tests.conftest import columns, run_safemigrate
from tests.deploy.test_phases import applied

pytestmark = pytest.mark.django_db(transaction=True)

OLD = ("old-host", 4242, datetime(2026, 1, 1, tzinfo=timezone.utc))
NEW = ("new-host", 4343, datetime(2026, 1, 2, tzinfo=timezone.utc))
POST = "0004_remove_item_legacy_from_database"


def report_as(settings, scenario_name: str, identity, kind: str = "web") -> None:
    """Write the row a process running the ``scenario_name`` code writes on a heartbeat."""
    modules = settings.MIGRATION_MODULES
    settings.MIGRATION_MODULES = {**modules, "scenarioapp": f"tests.scenarios.{scenario_name}"}
    try:
        assert Heartbeat(kind, identity).beat()
    finally:
        settings.MIGRATION_MODULES = modules


def gate(settings, **values: object) -> None:
    settings.SAFEMIGRATE = {"LIVE_PROCESS_WAIT": 0, "LIVE_PROCESS_HEARTBEAT": "1s", **values}


@pytest.fixture
def phases(scenario, settings):
    scenario("phases")
    gate(settings)
    yield
    AppProcess.objects.all().delete()


def test_an_old_process_holds_the_post_deploy_migration_and_a_new_one_does_not(phases, settings):
    run_safemigrate("scenarioapp", phase="pre")
    report_as(settings, "phases_old", OLD)
    report_as(settings, "phases", NEW, kind="worker")

    with pytest.raises(CommandError) as refused:
        run_safemigrate("scenarioapp", phase="post")
    assert refused.value.returncode == 4
    message = str(refused.value)
    assert f"refused scenarioapp.{POST}: it is post-deploy" in message
    assert "1 process(es) seen in the last 3 min still run code without it, on old-host" in message
    assert "web process pid 4242 on old-host (started 2026-01-01 00:00:00 UTC)" in message
    assert "new-host" not in message
    assert "legacy" in columns("scenarioapp_item")

    AppProcess.objects.filter(host="old-host").delete()  # the old process stopped
    run_safemigrate("scenarioapp", phase="post")
    assert applied()[-1] == POST


def test_a_plain_run_applies_up_to_the_post_deploy_migration_then_refuses(phases, settings):
    report_as(settings, "phases_old", OLD)
    with pytest.raises(CommandError) as refused:
        run_safemigrate("scenarioapp")
    assert refused.value.returncode == 4
    assert applied() == ["0001_initial", "0002_item_note", "0003_remove_item_legacy_from_state"]


def test_with_no_process_reporting_the_post_deploy_migration_runs(phases):
    output = run_safemigrate("scenarioapp")
    assert "no application process has reported in the last 3 min" in output.out
    assert applied()[-1] == POST


def test_the_gate_waits_for_an_old_process_to_age_out(phases, settings):
    gate(settings, LIVE_PROCESS_WINDOW="2s", LIVE_PROCESS_WAIT="60s")
    report_as(settings, "phases_old", OLD)
    started = time.monotonic()
    output = run_safemigrate("scenarioapp")
    waited = time.monotonic() - started
    assert f"scenarioapp.{POST} is post-deploy: waiting up to 60 s" in output.out
    assert "pid 4242 on old-host" in output.out
    assert 1.5 < waited < 50
    assert applied()[-1] == POST


def test_a_process_with_migrations_this_code_does_not_know_is_not_trusted(phases, settings):
    Heartbeat("web", OLD).beat()
    # Newer (or other) code: a migration this code has not got, so another digest too.
    AppProcess.objects.update(
        migrations_digest="f" * 64, leaf_migrations=["scenarioapp.0009_from_the_future"]
    )
    with pytest.raises(CommandError) as refused:
        run_safemigrate("scenarioapp", phase="post")
    assert "runs migrations this code does not know" in str(refused.value)


def test_the_gate_is_off_with_its_setting(phases, settings):
    report_as(settings, "phases_old", OLD)
    gate(settings, LIVE_PROCESS_GATE=False)
    run_safemigrate("scenarioapp")
    assert applied()[-1] == POST
    assert disabled_reason() == "SAFEMIGRATE['LIVE_PROCESS_GATE'] is off"


def test_no_heartbeat_in_a_test_run(settings):
    settings.SAFEMIGRATE = {}
    assert disabled_reason() == "this is a test run"
    assert heartbeat.start("web") is False


def _serve(scenario_name: str, url: str, **env: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.deploy.wsgi_app"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": url,
            "SAFEMIGRATE_TEST_MIGRATIONS": scenario_name,
            "SAFEMIGRATE_TEST_SETTINGS": '{"LIVE_PROCESS_HEARTBEAT": "1s"}',
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process


def _port(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    return int(process.stdout.readline())


def _get(port: int) -> float:
    """Send one request; return how long the answer took."""
    started = time.monotonic()
    with contextlib.suppress(urllib.error.HTTPError):  # any answer will do
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30)
    return time.monotonic() - started


def _stop(process: subprocess.Popen[str]) -> str:
    process.kill()
    _, err = process.communicate(timeout=30)
    return err


def test_a_real_web_process_running_old_code_holds_the_migration_until_it_stops(phases, settings):
    gate(settings, LIVE_PROCESS_WINDOW="3s")
    run_safemigrate("scenarioapp", phase="pre")
    web = _serve("phases_old", database_url())
    try:
        _get(_port(web))
        wait_for(lambda: AppProcess.objects.filter(pid=web.pid).exists(), what="a heartbeat")
        with pytest.raises(CommandError) as refused:
            run_safemigrate("scenarioapp", phase="post")
        assert f"web process pid {web.pid} on " in str(refused.value)
    finally:
        _stop(web)
    time.sleep(3.5)  # its last heartbeat leaves the window
    run_safemigrate("scenarioapp", phase="post")
    assert applied()[-1] == POST


def test_a_real_web_process_running_new_code_lets_it_run(phases, settings):
    run_safemigrate("scenarioapp", phase="pre")
    web = _serve("phases", database_url())
    try:
        _get(_port(web))
        wait_for(lambda: AppProcess.objects.filter(pid=web.pid).exists(), what="a heartbeat")
        run_safemigrate("scenarioapp", phase="post")
    finally:
        _stop(web)
    assert applied()[-1] == POST
    assert AppProcess.objects.filter(pid=web.pid, kind="web").count() == 1


def test_the_heartbeat_is_silent_with_the_database_down():
    web = _serve("phases", "postgres://nobody@127.0.0.1:9/nothing")
    try:
        port = _port(web)
        slowest = max(_get(port) for _ in range(3))
        time.sleep(2.5)  # a few heartbeats fail meanwhile
        slowest = max(slowest, _get(port))
    finally:
        err = _stop(web)
    assert slowest < 5
    assert err.count("cannot report its migrations (OperationalError") == 1, err


def test_the_heartbeat_is_silent_with_the_table_missing(caplog):
    table = AppProcess._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        beat = Heartbeat("web", NEW)
        with caplog.at_level(logging.WARNING, logger="safemigrate.heartbeat"):
            assert beat.beat() is False
            assert beat.beat() is False
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")
    assert [r.getMessage()[:60] for r in caplog.records] == [
        "safemigrate: this process cannot report its migrations (Prog"
    ]


def test_the_heartbeat_is_silent_on_a_read_only_database(caplog):
    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = on")
    try:
        with caplog.at_level(logging.WARNING, logger="safemigrate.heartbeat"):
            assert Heartbeat("web", NEW).beat() is False
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = off")
    assert "read-only transaction" in caplog.records[0].getMessage()
    assert not AppProcess.objects.exists()


def test_a_bad_heartbeat_setting_keeps_the_heartbeat_off(settings):
    settings.SAFEMIGRATE = {"LIVE_PROCESS_HEARTBEAT": "often"}
    assert "SAFEMIGRATE['LIVE_PROCESS_HEARTBEAT'] must be a duration" in disabled_reason()
