"""The runbook: every section, on the example project and on a scenario with breaking changes."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from safemigrate.conf import conf
from safemigrate.review.inspection import inspect_plan
from safemigrate.review.render import render
from safemigrate.review.runbook import runbook_from
from tests.conftest import run_safemigrate

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-in-settings"
SECTIONS = (
    "## Summary",
    "## Affected tables",
    "## Migrations",
    "## Breaking changes",
    "## Rollback",
    "### Irreversible steps",
    "## Backup",
    "## Checklist",
    "### Planning",
    "### Development",
    "### Testing",
    "### Deployment",
)


class Example:
    """The example project on a database of its own, driven through its manage.py."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.example_settings",
            "EXAMPLE_DATABASE": name,
            "EXAMPLE_PASSWORD": SECRET,
        }

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def query(self, sql: str) -> list[tuple[object, ...]]:
        params = {**connection.get_connection_params(), "dbname": self.name}
        with psycopg.connect(**params, autocommit=True) as conn:
            return conn.execute(sql).fetchall()


def _admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(**connection.get_connection_params(), autocommit=True)


@pytest.fixture
def example(transactional_db: None) -> Iterator[Example]:
    name = f"{connection.settings_dict['NAME']}_example"
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield Example(name)
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_example_runbook_has_every_section_and_its_rollback_works(example):
    example.manage("safemigrate", "shop", "0002", "-v0")
    example.manage("safemigrate", "-v0", "contenttypes")
    markdown = example.manage("safemigrate", "shop", "--runbook").stdout
    for heading in SECTIONS:
        assert heading in markdown, heading
    assert "### shop.0003_auditlog (forwards)" in markdown
    assert "### shop.0004_order_status (forwards)" in markdown
    assert "| shop_order | 0 |" in markdown
    assert "ACCESS EXCLUSIVE" in markdown
    assert "python manage.py safemigrate shop 0002_order" in markdown
    assert "pg_dump --format=custom" in markdown
    assert example.name in markdown
    assert SECRET not in markdown
    assert "- [ ] Test rollback procedure (for people to check)" in markdown
    assert "- [x] Estimate migration duration: About < 1 s" in markdown
    assert (
        "- [x] Verify data integrity: Checked by 4 postcondition(s), which fail their "
        "migration: shop.0005_product_price_cents: no product without price_cents; " in markdown
    )

    # The last migration, 0019, cannot be undone (the demo leaves it pending for a review): the
    # plan up to the one before it is the one whose rollback runs.
    assert "shop.0019_customer_email_lowercase**: Raw Python operation" in markdown
    runbook = example.manage("safemigrate", "shop", "0018", "--runbook", "--format", "json")
    book = json.loads(runbook.stdout)
    # The price_cents expand keeps its backfill's checkpoint in safemigrate's tables, so it
    # brings safemigrate's migrations (and auth's, for the reviews' users) into the plan.
    labels = [m["label"] for m in book["migrations"]]
    assert labels[:8] == [
        "shop.0003_auditlog",
        "shop.0004_order_status",
        "safemigrate.0001_initial",
        "auth.0001_initial",
        "safemigrate.0002_review",
        "safemigrate.0003_backfill_state",
        "shop.0005_product_price_cents",
        "shop.0006_product_price_cents_contract",
    ]
    # The example's later migrations (one per seed type, with the safe operations) follow.
    assert labels[-1] == "shop.0018_customer_email_address_contract"
    html = example.manage("safemigrate", "shop", "--runbook", "--format", "html").stdout
    assert html.startswith("<!DOCTYPE html>")
    assert "Irreversible steps" in html

    example.manage("safemigrate", "shop", "0016", "-v0")
    assert example.query("SELECT to_regclass('shop_auditlog') IS NOT NULL") == [(True,)]
    for command in book["rollback_commands"]:
        argv = shlex.split(command)
        assert argv[:3] == ["python", "manage.py", "safemigrate"]
        example.manage(*argv[2:], "-v0")
    applied = example.query("SELECT name FROM django_migrations WHERE app = 'shop' ORDER BY id")
    assert [name for (name,) in applied] == ["0001_initial", "0002_order"]
    assert example.query("SELECT to_regclass('shop_auditlog') IS NULL") == [(True,)]


@pytest.fixture
def review_scenario(scenario):
    scenario("review")
    run_safemigrate("scenarioapp", "0001", verbosity=0)


def _book() -> dict:
    return json.loads(run_safemigrate("scenarioapp", runbook=True, format="json").out)


def test_breaking_changes_and_irreversible_steps(review_scenario):
    book = _book()
    (migration,) = book["migrations"]
    breaking = {item["operation"]: item["why"] for item in book["breaking_changes"]}
    assert breaking["Remove field legacy from item"].startswith(
        "drops column legacy of scenarioapp_item"
    )
    assert "renames column name" in breaking["Rename field name on item to title"]
    assert "changes the type of column price" in breaking["Alter field price on item"]
    assert book["irreversible"] == [
        {
            "migration": "scenarioapp.0002_breaking",
            "operation": "Raw Python operation",
            "why": "RunPython without reverse_code: rolling back past it fails",
        }
    ]
    assert book["rollback_commands"] == ["python manage.py safemigrate scenarioapp 0001_initial"]
    phases = [op["phase"] for op in migration["operations"]]
    assert phases == ["contract", "change", "change", "expand", "data"]
    locks = {op["kind"]: op["lock"] for op in migration["operations"]}
    assert locks["AddIndex"] == "SHARE"
    assert locks["RemoveField"] == "ACCESS EXCLUSIVE"
    assert "+ the time of its Python code" in migration["estimated"]
    markdown = run_safemigrate("scenarioapp", runbook=True).out
    assert "| 1 | Remove field legacy from item | contract | ACCESS EXCLUSIVE |" in markdown
    assert "- **scenarioapp.0002_breaking**: Raw Python operation: RunPython" in markdown
    (table,) = book["tables"]
    assert table == {
        "name": "scenarioapp_item",
        "exists": True,
        "rows": 0,
        "size_bytes": table["size_bytes"],
        "size": table["size"],
    }


def test_the_worst_stall_a_lock_storm_could_cause_is_stated(review_scenario, settings):
    assert _book()["storm"]["worst_stall_ms"] == 1000  # LOCK_TIMEOUT_MAX's default
    settings.SAFEMIGRATE = {
        "LOCK_TIMEOUT_MAX": "2s",
        "TABLES": {"scenarioapp_item": {"LOCK_TIMEOUT_MAX": "600ms"}},
    }
    book = _book()
    assert book["storm"]["tables"] == {"scenarioapp_item": 600}
    assert book["storm"]["worst_stall_ms"] == 600
    markdown = run_safemigrate("scenarioapp", runbook=True).out
    assert "- Worst stall in a lock storm: 0.6 s behind each attempt, at most" in markdown
    html = run_safemigrate("scenarioapp", runbook=True, format="html").out
    assert "Worst stall in a lock storm: 0.6 s behind each attempt" in html


def test_findings_come_from_the_analysis_and_are_escaped(scenario):
    scenario("unsafe")
    run_safemigrate("scenarioapp", "0001", verbosity=0)
    book = json.loads(run_safemigrate("scenarioapp", runbook=True, format="json").out)
    assert book["summary"]["errors"] == 1
    add_index = book["migrations"][0]["operations"][1]
    assert add_index["findings"][0]["rule"] == "SM109"
    assert add_index["findings"][0]["level"] == "error"
    assert "AddIndexConcurrently" in add_index["findings"][0]["hint"]
    acknowledged = book["migrations"][1]["operations"][0]["findings"][0]
    assert (acknowledged["rule"], acknowledged["level"]) == ("SM104", "warning")
    info = inspect_plan(connection, "scenarioapp")
    finding = info.migrations[0].operations[1].findings[0]
    info.migrations[0].operations[1].findings[0] = replace(finding, message="<b>drop</b>")
    html = render(runbook_from(info, connection, conf.checklist), "html")
    assert "&lt;b&gt;drop&lt;/b&gt;" in html
    assert "<b>drop</b>" not in html


def test_custom_checklist_from_settings(review_scenario, settings):
    settings.SAFEMIGRATE = {"CHECKLIST": {"Ours": ["Estimate migration duration", "Ask Sam"]}}
    (section,) = _book()["checklist"]
    assert section["section"] == "Ours"
    assert section["items"][0]["answer"].startswith("About ")
    assert section["items"][1] == {"id": "ask-sam", "text": "Ask Sam", "answer": None}


def test_without_postconditions_verifying_the_data_is_left_to_people(review_scenario):
    items = {item["id"]: item for section in _book()["checklist"] for item in section["items"]}
    assert items["verify-data-integrity"]["answer"] is None


def test_nothing_pending(scenario):
    scenario("basic")
    run_safemigrate("scenarioapp", verbosity=0, allow_unsafe=True)
    markdown = run_safemigrate("scenarioapp", runbook=True).out
    assert "No pending migrations." in markdown
    assert "# nothing to roll back" in markdown


def test_runbook_of_a_rollback_says_how_to_reapply_and_what_cannot_be_undone(review_scenario):
    run_safemigrate("scenarioapp", verbosity=0, allow_unsafe=True)
    book = json.loads(run_safemigrate("scenarioapp", "0001", runbook=True, format="json").out)
    (migration,) = book["migrations"]
    assert migration["direction"] == "backwards"
    assert {op["phase"] for op in migration["operations"]} == {"rollback"}
    assert migration["operations"][0]["kind"] == "RunPython"  # unapplied in reverse order
    assert book["rollback_commands"] == ["python manage.py safemigrate scenarioapp 0002_breaking"]
    assert book["irreversible"][0]["why"] == "RunPython without reverse_code: this plan fails at it"
    breaking = {item["operation"]: item["why"] for item in book["breaking_changes"]}
    assert breaking == {
        "Rename field name on item to title": "renames column title of scenarioapp_item: code "
        "using the old name fails until it is deployed",
        "Alter field price on item": "changes the type of column price of scenarioapp_item: a "
        "rewrite, and code may break",
    }


def test_runbook_gives_each_migration_its_deploy_phase(scenario, settings):
    scenario("phases")
    book = json.loads(run_safemigrate("--runbook", "--format", "json").out)
    phases = {m["name"]: (m["deploy_phase"], m["deploy_phase_source"]) for m in book["migrations"]}
    assert phases["0002_item_note"][0] == "pre_deploy"
    assert phases["0004_remove_item_legacy_from_database"] == (
        "post_deploy",
        "inferred: Drop column of removed field legacy from item: "
        "RemoveFieldFromDatabase declares it post-deploy",
    )
    markdown = run_safemigrate("--runbook").out
    assert "Deploy phase: **post-deploy** (inferred: Drop column" in markdown
    run_safemigrate("scenarioapp", "0004")  # no heartbeat in a test run: nothing waits
    rollback = json.loads(
        run_safemigrate("--runbook", "--format", "json", "scenarioapp", "0002").out
    )
    assert {m["deploy_phase"] for m in rollback["migrations"]} == {"rollback"}
