"""``safemigrate --lint`` and the analysis that runs before every ``safemigrate``."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from io import StringIO
from pathlib import Path
from typing import Any

import django
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, migrations

from safemigrate.analysis.allowances import migration_allowances
from safemigrate.analysis.lint import analyse_before_run
from safemigrate.exceptions import ConfigurationError, ExitCode
from tests.conftest import columns, run_safemigrate
from tests.test_command import _database_url as database_url

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


def lint(*args: str, **options: object) -> tuple[int, str]:
    """Run ``--lint`` and return (exit code, output)."""
    try:
        output = run_safemigrate(*args, lint=True, **options)
    except CommandError as error:
        return error.returncode, str(error)
    return 0, output.out


def lint_fails(*args: str, **options: object) -> str:
    with pytest.raises(CommandError) as raised:
        run_safemigrate(*args, lint=True, **options)
    assert raised.value.returncode == 1
    return str(raised.value)


@pytest.fixture
def unsafe(scenario):
    scenario("unsafe")
    run_safemigrate("scenarioapp", "0001")


def test_lint_of_a_plan_that_creates_its_table_finds_nothing(scenario):
    scenario("unsafe")
    code, out = lint("scenarioapp")
    assert code == 0
    assert "SM109" not in out
    assert "0 blocking" in out


def test_lint_flags_an_index_on_an_existing_table(unsafe):
    code, message = lint("scenarioapp")
    assert code == 1
    assert "error-level finding" in message


def test_lint_text_names_rule_lock_and_fix(unsafe):
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("safemigrate", "scenarioapp", lint=True, stdout=out, no_color=True)
    text = out.getvalue()
    assert "ERROR SM109 Creating an index without CONCURRENTLY blocks writes" in text
    assert "ShareLock on scenarioapp_item" in text
    assert "safemigrate.operations.AddIndexConcurrently" in text
    assert "acknowledged: scenarioapp_item is a lookup table of 30 rows" in text


def _json(*args: str, **options: object) -> dict:
    out = StringIO()
    with contextlib.suppress(CommandError):
        call_command(
            "safemigrate", *args, lint=True, format="json", stdout=out, no_color=True, **options
        )
    return json.loads(out.getvalue())


def test_lint_json(unsafe):
    report = _json("scenarioapp")
    by_name = {m["migration"]: m for m in report["migrations"]}
    add_index = by_name["scenarioapp.0002_item_name_idx"]["operations"][1]
    assert add_index["lock"] == "ShareLock"
    assert add_index["tables"] == ["scenarioapp_item"]
    assert [f["rule"] for f in add_index["findings"]] == ["SM109"]
    assert add_index["findings"][0]["docs"] == "docs/rules/SM109.md"
    alter = by_name["scenarioapp.0003_quantity_bigint"]["operations"][0]
    assert alter["rewrites"] == ["scenarioapp_item"]
    assert alter["findings"][0]["acknowledged"].startswith("scenarioapp_item is a lookup")
    assert report["blocking"] == 1


def test_lint_github_annotations_point_at_the_operation(unsafe):
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("safemigrate", "scenarioapp", lint=True, format="github", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(
        "::error file=tests/scenarios/unsafe/0002_item_name_idx.py,line=9,title=SM109 "
    )
    assert "Fix%3A" not in lines[0]
    assert lines[1].startswith("::notice file=tests/scenarios/unsafe/0003_quantity_bigint.py")


def test_small_tables_from_live_statistics_lower_the_severity(unsafe):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO scenarioapp_item (name, quantity) VALUES ('a', 1), ('b', 2)")
        cursor.execute("ANALYZE scenarioapp_item")
    report = _json("scenarioapp")
    add_index = report["migrations"][0]["operations"][1]
    assert add_index["findings"][0]["severity"] == "info"
    assert add_index["findings"][0]["context"] == "small table: about 2 rows"
    assert add_index["stats"]["scenarioapp_item"]["rows"] == 2
    assert add_index["estimate_s"] is not None
    assert report["blocking"] == 0


def test_hot_tables_flag_brief_locks(unsafe, settings):
    settings.SAFEMIGRATE = {"HOT_TABLES": ["scenarioapp_item"]}
    report = _json("scenarioapp")
    add_field = report["migrations"][0]["operations"][0]
    assert [f["rule"] for f in add_field["findings"]] == ["SM128"]


def test_live_write_rates_make_a_table_hot(unsafe, settings):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO scenarioapp_item (name, quantity) VALUES ('a', 1), ('b', 2)")
        cursor.execute("SELECT pg_stat_force_next_flush()")
    settings.SAFEMIGRATE = {"HOT_WRITES_PER_SECOND": 0.000001}
    report = _json("scenarioapp")
    assert [f["rule"] for f in report["migrations"][0]["operations"][0]["findings"]] == ["SM128"]
    settings.SAFEMIGRATE = {"HOT_WRITES_PER_SECOND": 1_000_000}
    report = _json("scenarioapp")
    assert report["migrations"][0]["operations"][0]["findings"] == []


def test_assume_production_judges_named_migration_from_a_clean_start(scenario):
    scenario("unsafe")
    message = lint_fails("scenarioapp", "0002", assume_production=True)
    assert "1 error-level finding" in message


def test_baseline_skips_old_migrations(scenario, settings):
    scenario("unsafe")
    settings.SAFEMIGRATE = {"BASELINE": {"scenarioapp": "0002_item_name_idx"}}
    report = _json("scenarioapp", assume_production=True)
    assert [m["migration"] for m in report["migrations"]] == ["scenarioapp.0003_quantity_bigint"]
    assert "baseline" in report["skipped"]["scenarioapp.0002_item_name_idx"]
    assert report["blocking"] == 0


def test_unknown_baseline_names_the_fix(scenario, settings):
    scenario("unsafe")
    settings.SAFEMIGRATE = {"BASELINE": {"scenarioapp": "0099_nope"}}
    code, message = lint("scenarioapp", assume_production=True)
    assert code == ExitCode.USAGE
    assert "give the full name of an existing migration" in message


def test_third_party_apps_are_skipped_unless_asked(scenario):
    scenario("unsafe")
    report = _json(assume_production=True)
    assert "third-party" in report["skipped"]["auth.0001_initial"]
    judged = {m["migration"].split(".")[0] for m in report["migrations"]}
    assert "auth" not in judged
    assert "scenarioapp" in judged
    report = _json(assume_production=True, include_third_party=True)
    assert "auth" in {m["migration"].split(".")[0] for m in report["migrations"]}


def test_since_judges_only_added_files(scenario):
    scenario("unsafe")
    report = _json("scenarioapp", assume_production=True, since="HEAD")
    for label, reason in report["skipped"].items():
        assert reason == "not added since HEAD", label


def test_backwards_plan_is_judged_without_blocking(unsafe):
    run_safemigrate("scenarioapp", allow_unsafe=True)
    report = _json("scenarioapp", "0001")
    assert [m["direction"] for m in report["migrations"]] == ["backwards", "backwards"]
    rules = {
        f["rule"]: f for m in report["migrations"] for op in m["operations"] for f in op["findings"]
    }
    assert rules["SM107"]["severity"] == "warning"
    assert rules["SM107"]["context"] == "rollback"
    assert report["blocking"] == 0


def test_safemigrate_refuses_unacknowledged_errors(unsafe):
    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp")
    assert raised.value.returncode == ExitCode.REFUSED
    message = str(raised.value)
    assert "scenarioapp.0002_item_name_idx #1" in message
    assert "AddIndexConcurrently" in message
    assert "safemigrate = {'allow': {'SM109': 'why it is safe'}}" in message
    assert "note" not in columns("scenarioapp_item"), "nothing was applied"
    run_safemigrate("scenarioapp", allow_unsafe=True)
    assert "note" in columns("scenarioapp_item")


def test_trace_reports_what_postgres_did(unsafe):
    # In a subprocess: the test runner forbids connections to the throwaway database's alias.
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "SAFEMIGRATE_TEST_MIGRATIONS": "unsafe",
    }
    command = [sys.executable, "-m", "django", "safemigrate", "scenarioapp", "--lint"]
    done = subprocess.run(
        [*command, "--trace", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    add_index = report["migrations"][0]["operations"][1]["statements"][0]
    assert add_index["trace"]["locks"] == {"scenarioapp_item": "ShareLock"}
    assert add_index["trace"]["disagreement"] is None
    alter = report["migrations"][1]["operations"][0]["statements"][0]
    assert alter["trace"]["rewritten"] == ["scenarioapp_item"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname LIKE '%%_trace_%%'")
        assert cursor.fetchone()[0] == 0, "the throwaway database is gone"


def _migration(attribute: object) -> migrations.Migration:
    migration = migrations.Migration("0002_x", "shop")
    migration.safemigrate = attribute  # type: ignore[attr-defined]
    return migration


def test_allow_needs_known_rules_and_reasons():
    assert migration_allowances(_migration({"allow": {"SM109": "tiny"}})) == {"SM109": "tiny"}
    with pytest.raises(ConfigurationError, match="unknown rule 'SM999'"):
        migration_allowances(_migration({"allow": {"SM999": "x"}}))
    with pytest.raises(ConfigurationError, match="needs a reason"):
        migration_allowances(_migration({"allow": {"SM109": " "}}))
    with pytest.raises(ConfigurationError, match="must be a dict"):
        migration_allowances(_migration({"allow": ["SM109"]}))


def test_squashed_migration_is_judged_as_django_applies_it(scenario):
    scenario("squashed")
    report = _json("scenarioapp")
    assert [m["migration"] for m in report["migrations"]] == [
        "scenarioapp.0001_squashed_0003_item_name_idx"
    ]
    assert report["blocking"] == 0


@pytest.mark.skipif(
    django.VERSION < (6, 0),
    reason="Django 5.2's migrate cannot target a migration replaced by an unapplied squash",
)
def test_partly_applied_squash_is_judged_by_its_remaining_migrations(scenario):
    scenario("squashed")
    run_safemigrate("scenarioapp", "0001_initial")
    report = _json("scenarioapp")
    assert [m["migration"] for m in report["migrations"]] == [
        "scenarioapp.0002_item_note",
        "scenarioapp.0003_item_name_idx",
    ]
    assert report["blocking"] == 1


def test_merge_migrations_have_nothing_to_judge(scenario):
    scenario("merge")
    run_safemigrate("scenarioapp", "0001")
    report = _json("scenarioapp")
    merge = next(m for m in report["migrations"] if m["migration"].endswith("0003_merge"))
    assert merge["operations"] == []
    assert report["blocking"] == 0


def test_a_broken_analysis_names_the_escape_hatch(unsafe, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("cannot render")

    monkeypatch.setattr("safemigrate.analysis.lint.judge", broken)
    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp")
    assert raised.value.returncode == ExitCode.REFUSED
    assert "RuntimeError: cannot render" in str(raised.value)
    assert "--allow-unsafe" in str(raised.value)
    code, message = lint("scenarioapp")
    assert code == 1
    assert "could not analyse the plan: RuntimeError: cannot render" in message


def test_a_broken_analysis_never_refuses_a_rollback(unsafe, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("cannot render")

    monkeypatch.setattr("safemigrate.analysis.lint.judge", broken)
    output = run_safemigrate("scenarioapp", "zero", verbosity=0)
    assert "could not analyse this rollback (RuntimeError: cannot render)" in output.err
    assert "a rollback is never refused" in output.err
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('scenarioapp_item')")
        assert cursor.fetchone() == (None,)


def test_lint_judges_how_a_forward_migration_would_be_rolled_back(scenario):
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")
    report = _json("scenarioapp")
    [migration] = report["migrations"]
    assert migration["direction"] == "forwards"
    rollback = migration["rollback"]
    assert rollback["direction"] == "backwards"
    findings = [f for op in rollback["operations"] for f in op["findings"]]
    dropping = next(f for f in findings if f["rule"] == "SM107")
    assert dropping["severity"] == "warning", "a risky rollback is reported, not refused"
    assert report["blocking"] == 0
    text = run_safemigrate("scenarioapp", lint=True).out
    assert "rolling it back:" in text
    assert "SM107" in text.split("rolling it back:")[1]


def test_set_not_null_proven_by_a_validated_check_in_the_live_catalog(scenario):
    scenario("notnull")
    run_safemigrate("scenarioapp", "0002", verbosity=0)
    report = _json("scenarioapp")
    (operation,) = report["migrations"][0]["operations"]
    assert "SET NOT NULL" in operation["statements"][0]["sql"]
    assert operation["findings"] == [], "the validated check already proves it: no scan"
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE scenarioapp_item DROP CONSTRAINT item_note_nn")
        cursor.execute(
            "ALTER TABLE scenarioapp_item ADD CONSTRAINT item_note_nn "
            "CHECK (note IS NOT NULL) NOT VALID"
        )
    report = _json("scenarioapp")
    findings = report["migrations"][0]["operations"][0]["findings"]
    assert [f["rule"] for f in findings] == ["SM103"], "a NOT VALID check proves nothing"


def test_a_table_locked_by_another_session_is_judged_as_large_without_waiting(unsafe, blocker):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO scenarioapp_item (name, quantity) VALUES ('a', 1), ('b', 2)")
        cursor.execute("ANALYZE scenarioapp_item")
    blocker.hold("LOCK TABLE scenarioapp_item IN ACCESS EXCLUSIVE MODE")
    result: list[dict[str, Any]] = []

    def judge() -> None:
        try:
            result.append(_json("scenarioapp"))
        finally:
            connection.close()  # this thread's own connection

    judging = threading.Thread(target=judge, daemon=True)
    started = time.monotonic()
    judging.start()
    judging.join(timeout=10)
    blocker.release()
    judging.join()

    assert time.monotonic() - started < 10, "the analysis queued behind the lock"
    add_index = result[0]["migrations"][0]["operations"][1]
    assert add_index["findings"][0]["severity"] == "error"
    assert "scenarioapp_item" not in add_index["stats"]


def test_the_check_before_a_rollback_leaves_its_migrations_to_lint(unsafe):
    run_safemigrate("scenarioapp", allow_unsafe=True, verbosity=0)
    options = {"app_label": "scenarioapp", "migration_name": "0001"}
    report = analyse_before_run(connection, options)
    assert report.migrations == [], "a rollback is never refused: nothing to judge before it"
    assert set(report.skipped) == {
        "scenarioapp.0002_item_name_idx",
        "scenarioapp.0003_quantity_bigint",
    }
    linted = _json("scenarioapp", "0001")["migrations"]
    assert [m["direction"] for m in linted] == ["backwards", "backwards"]
