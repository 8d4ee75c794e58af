"""``safemigrate --rehearse`` on the real server: the copy, the phases, the report, the cleanup."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from safemigrate.models import Review
from safemigrate.review.runbook import build_runbook
from tests.conftest import Blocker, run_safemigrate
from tests.recovery.recovery_helpers import applied, checksums

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMERS = "scenarioapp_customer"
ORDERS = "scenarioapp_order"
BY_EMAIL = f"SELECT id, name FROM {CUSTOMERS} WHERE email = 'c77@example.com'"


def seed(customers: int = 300) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CUSTOMERS} (name, email) SELECT 'Customer ' || g, "
            "'c' || g || '@example.com' FROM generate_series(1, %s) g",
            [customers],
        )
        cursor.execute(
            f"INSERT INTO {ORDERS} (customer_id, total) SELECT 1 + g %% %s, g / 7.0 "
            "FROM generate_series(1, %s) g",
            [customers, customers * 3],
        )
        cursor.execute(f"ANALYZE {CUSTOMERS}, {ORDERS}")


def copies() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sm\\_rehearsal\\_%%'")
        return [name for (name,) in cursor.fetchall()]


def rehearse(*args: str, **options) -> dict:
    """Rehearse, expecting it to pass, and return the JSON report."""
    return json.loads(run_safemigrate(*args, rehearse=True, json=True, **options).out)


def rehearse_failing(*args: str, **options) -> tuple[dict, CommandError]:
    """Rehearse, expecting it to fail, and return the JSON report and the error."""
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("safemigrate", *args, rehearse=True, json=True, stdout=out, **options)
    return json.loads(out.getvalue()), failed.value


def test_rehearsal_times_each_operation_both_ways_and_drops_its_copy(rehearsal, settings):
    rehearsal(settings, {"REHEARSAL_TOP_QUERIES": 0})
    run_safemigrate("scenarioapp", "0001")
    seed()
    before = checksums(CUSTOMERS, ORDERS)

    report = rehearse("scenarioapp", "0002")

    assert report["passed"], report["failures"]
    assert report["copy"]["method"] == "template"
    assert report["copy"]["dropped"]
    assert [p["name"] for p in report["phases"]] == ["apply", "rollback", "re-apply"]
    assert report["phases"][0]["migrations"] == ["scenarioapp.0002_customer_phone"]
    [phone, index] = report["operations"]
    assert phone["description"].startswith("Add field phone")
    for operation in (phone, index):
        assert operation["apply_ms"] > 0
        assert operation["rollback_ms"] > 0
        assert operation["re-apply_ms"] > 0
    assert report["schema"] == {"after_rollback": [], "after_reapply": []}
    assert copies() == []
    # The real database is as it was: the plan ran on the copy only.
    assert applied() == ["0001_initial"]
    assert checksums(CUSTOMERS, ORDERS) == before


def test_measured_timings_go_to_the_review_and_the_runbook_prefers_them(rehearsal, settings):
    rehearsal(settings, {"REHEARSAL_TOP_QUERIES": 0})
    run_safemigrate("scenarioapp", "0001")
    rehearse("scenarioapp", "0002")

    stored = Review.objects.get(app_label="scenarioapp", name="0002_customer_phone").rehearsal
    assert stored["copy"] == "template"
    assert stored["duration_ms"] is not None
    assert len(stored["operations"]) == 2
    book = build_runbook(connection, "scenarioapp", "0002")
    [migration] = book["migrations"]
    assert migration["measured_ms"] == stored["duration_ms"]
    assert "measured by the rehearsal" in migration["estimated"]
    duration = next(
        item["answer"]
        for section in book["checklist"]
        for item in section["items"]
        if item["id"] == "estimate-migration-duration"
    )
    assert "measured by the rehearsal" in duration

    # An edited migration is no longer what was measured: back to the estimate.
    Review.objects.filter(name="0002_customer_phone").update(
        rehearsal={**stored, "fingerprint": "an older version of the file"}
    )
    [migration] = build_runbook(connection, "scenarioapp", "0002")["migrations"]
    assert migration["measured_ms"] is None
    assert migration["duration_source"] == "estimate"


def test_a_rerun_that_leaves_another_schema_fails_and_the_copy_is_dropped(rehearsal, settings):
    rehearsal(settings, {"REHEARSAL_TOP_QUERIES": 0})
    run_safemigrate("scenarioapp", "0003")

    report, error = rehearse_failing("scenarioapp", "0004")

    assert error.returncode == 6
    assert "schema differs" in str(error)
    assert [f["step"] for f in report["failures"]] == ["schema differs"]
    # The first apply's index is missing, the second's is new: names drawn at random.
    drift = report["schema"]["after_reapply"]
    assert sorted(line.split(" (")[0].rsplit(" ", 2)[-2:][1] for line in drift) == [
        "missing",
        "new",
    ]
    assert all("index scenarioapp_random_" in line for line in drift)
    assert report["copy"]["dropped"]
    assert copies() == []
    assert applied() == ["0001_initial", "0002_customer_phone", "0003_email_unindexed"]


def test_an_index_drop_that_ruins_a_hot_query_fails_the_rehearsal(rehearsal, settings):
    rehearsal(settings, {"REHEARSAL_QUERIES": [BY_EMAIL], "REHEARSAL_TOP_QUERIES": 0})
    run_safemigrate("scenarioapp", "0002")
    seed(200_000)

    report, error = rehearse_failing("scenarioapp", "0003")

    assert error.returncode == 6
    [query] = report["queries"]
    assert query["plan_changed"]
    assert any("scenarioapp_customer_email" in node for node in query["before"]["shape"])
    assert any(node.startswith("Seq Scan") for node in query["after"]["shape"])
    assert query["ratio"] > 2
    assert query["ruined"]
    assert [f["step"] for f in report["failures"]] == ["queries"]
    assert copies() == []


def test_an_unchanged_query_is_reported_with_its_latency_ratio(rehearsal, settings):
    rehearsal(settings, {"REHEARSAL_QUERIES": [BY_EMAIL], "REHEARSAL_TOP_QUERIES": 0})
    run_safemigrate("scenarioapp", "0001")
    seed()

    out = run_safemigrate("scenarioapp", "0002", rehearse=True).out

    assert "Rehearsal of" in out
    assert ": passed" in out
    assert "plan unchanged" in out
    assert "x)" in out  # the latency ratio, before -> after


def test_with_others_connected_the_copy_is_dumped_and_large_tables_sampled(
    rehearsal, settings, blocker: Blocker
):
    rehearsal(settings, {"REHEARSAL_TOP_QUERIES": 0})
    run_safemigrate("scenarioapp", "0001")
    seed(300)
    blocker.hold("SELECT 1")  # another session on the database: no template copy

    report = rehearse("scenarioapp", "0002", rehearse_sample=100)

    assert report["passed"], report["failures"]
    assert report["copy"]["method"] == "sampled dump"
    # Orders are sampled; customers, which orders reference, are copied whole.
    assert report["copy"]["sampled"] == {"public.scenarioapp_order": {"rows": 100, "of": 900}}
    assert copies() == []


def test_an_irreversible_migration_is_reported_not_crashed_on(scenario, settings, monkeypatch):
    scenario("irreversible")
    monkeypatch.setenv("SAFEMIGRATE_TEST_MIGRATIONS", "irreversible")
    settings.SAFEMIGRATE = {"REHEARSAL_TOP_QUERIES": 0}
    monkeypatch.setenv("SAFEMIGRATE_TEST_SETTINGS", json.dumps(settings.SAFEMIGRATE))
    run_safemigrate("scenarioapp", "0001")

    report, error = rehearse_failing("scenarioapp", "0002")

    assert error.returncode == 6
    [failure] = report["failures"]
    assert failure["step"] == "irreversible"
    assert "the rollback cannot be rehearsed" in failure["problem"]
    assert (
        "scenarioapp.0002_item_slug operation #1 (Raw Python operation) cannot be reversed"
        in (failure["problem"])
    )
    assert [p["name"] for p in report["phases"]] == ["apply", "rollback"]
    assert copies() == []


def test_queries_with_parameters_get_a_generic_plan_or_a_note(rehearsal, settings):
    query = f"SELECT id FROM {CUSTOMERS} WHERE email = $1"
    rehearsal(settings, {"REHEARSAL_QUERIES": [query], "REHEARSAL_TOP_QUERIES": 0})
    run_safemigrate("scenarioapp", "0001")

    [check] = rehearse("scenarioapp", "0002")["queries"]

    if connection.pg_version >= 160000:
        assert check["before"]["shape"]
        assert check["before"]["median_ms"] is None
        assert "generic plan compared, not timed" in check["note"]
    else:
        assert check["before"]["shape"] == []
        assert "PostgreSQL 16 or later can plan it; skipped" in check["note"]


def test_pg_stat_statements_gives_the_heaviest_queries_or_a_note(rehearsal, settings):
    rehearsal(settings, {})
    run_safemigrate("scenarioapp", "0001")
    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_preload_libraries")
        loaded = "pg_stat_statements" in cursor.fetchone()[0]
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        for _ in range(3):  # the heaviest reading query here, by far
            cursor.execute(f"SELECT count(*), pg_sleep(0.05) FROM {CUSTOMERS}")
    try:
        report = rehearse("scenarioapp", "0002")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP EXTENSION pg_stat_statements")
    unavailable = any("pg_stat_statements is not available" in n for n in report["notes"])
    assert unavailable is not loaded
    assert all(q["source"] == "pg_stat_statements" for q in report["queries"])
    # Where the server loads it (the embedded PostgreSQL does), the hot query is replayed.
    replayed = [q["query"] for q in report["queries"]]
    assert any("pg_sleep" in query for query in replayed) is loaded, replayed


def test_a_postcondition_that_fails_on_the_copy_fails_the_rehearsal(rehearsal, settings):
    rehearsal(settings, {"REHEARSAL_TOP_QUERIES": 0})
    run_safemigrate("scenarioapp", "0004")
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {CUSTOMERS} (name, email) VALUES ('', 'nameless@example.com')")

    report, error = rehearse_failing("scenarioapp", "0005")

    assert error.returncode == 6
    [failure] = report["failures"]
    assert failure["step"] == "postcondition"
    assert "every customer has a name (expected 0, got 1)" in failure["problem"]
    assert [p["name"] for p in report["phases"]] == ["apply"]
    assert copies() == []
    assert "0005_named_customers" not in applied()
