"""The analysis never fails a valid plan, nor refuses a rollback, nor ends in a traceback.

Collecting an operation's SQL without running it, Django's schema editor still asks the
live catalog about constraints; the analysis answers from the state the plan has reached.
What cannot be collected at all is a finding on that one operation.
"""

from __future__ import annotations

import contextlib
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.conftest import columns, run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)

LEGACY_UNIQUE = "legacy_pair_a_c_key"
LEGACY_INDEX = "legacy_pair_b_d_idx"


def lint_json(*args: str) -> tuple[int, dict]:
    out = StringIO()
    code = 0
    try:
        call_command("safemigrate", *args, lint=True, format="json", stdout=out, no_color=True)
    except CommandError as error:
        code = error.returncode
    return code, json.loads(out.getvalue())


def pair_constraints() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'scenarioapp_pair'::regclass "
            "AND contype <> 'n' "
            "UNION SELECT indexname FROM pg_indexes WHERE tablename = 'scenarioapp_pair'"
        )
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def together(scenario):
    """Two generations of unique_together and index_together, renamed by hand since."""
    scenario("together")
    run_safemigrate("scenarioapp", verbosity=0)
    unique, index = sorted(pair_constraints() - {"scenarioapp_pair_pkey"})
    with connection.cursor() as cursor:
        cursor.execute(
            f'ALTER TABLE scenarioapp_pair RENAME CONSTRAINT "{unique}" TO {LEGACY_UNIQUE}'
        )
        cursor.execute(f'ALTER INDEX "{index}" RENAME TO {LEGACY_INDEX}')


def _statements(report: dict, migration: str) -> list[str]:
    judged = next(m for m in report["migrations"] if m["migration"].endswith(migration))
    return [s["sql"] for op in judged["operations"] for s in op["statements"]]


def test_lint_of_a_forward_plan_through_both_generations_collects_everything(scenario):
    scenario("together")
    code, report = lint_json("scenarioapp")
    assert code == 0
    operations = [op for m in report["migrations"] for op in m["operations"]]
    assert [op["sql_error"] for op in operations] == [None] * 5
    assert any("DROP CONSTRAINT" in sql for sql in _statements(report, "0003_second_together"))


def test_lint_of_a_rollback_past_renamed_constraints_judges_every_operation(together):
    code, report = lint_json("scenarioapp", "0001")
    assert code == 0, "a rollback's findings never block"
    assert [m["direction"] for m in report["migrations"]] == ["backwards", "backwards"]
    assert all(op["sql_error"] is None for m in report["migrations"] for op in m["operations"])
    # The live catalog names what the plan has not changed yet: the renamed constraints.
    last = " ".join(_statements(report, "0003_second_together"))
    assert f'DROP CONSTRAINT "{LEGACY_UNIQUE}"' in last
    assert f'DROP INDEX IF EXISTS "{LEGACY_INDEX}"' in last
    # Further back, the state answers: what unapplying 0003 puts back, under Django's names.
    first = " ".join(_statements(report, "0002_first_together"))
    assert 'DROP CONSTRAINT "scenarioapp_pair_a_b_' in first
    assert 'DROP INDEX IF EXISTS "scenarioapp_pair_c_d_' in first
    assert "SM131" not in json.dumps(report)


def test_rollback_past_renamed_constraints_runs_as_migrate_would(together):
    run_safemigrate("scenarioapp", "0001", verbosity=0)
    assert pair_constraints() == {"scenarioapp_pair_pkey"}
    run_safemigrate("scenarioapp", "zero", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('scenarioapp_pair')")
        assert cursor.fetchone() == (None,)


def test_an_operation_that_cannot_be_collected_is_a_finding_not_a_refusal(scenario):
    scenario("uncollectable")
    code, report = lint_json("scenarioapp")
    assert code == 0
    operation = report["migrations"][1]["operations"][0]
    assert operation["sql_error"].startswith("NotImplementedError: the note column's SQL")
    (finding,) = operation["findings"]
    assert (finding["rule"], finding["severity"]) == ("SM131", "warning")
    assert "judged from the operation alone" in finding["title"]
    text = StringIO()
    with contextlib.suppress(CommandError):
        call_command("safemigrate", "scenarioapp", lint=True, stdout=text, no_color=True)
    assert "Traceback" not in text.getvalue()
    run_safemigrate("scenarioapp", verbosity=0)
    assert "note" in columns("scenarioapp_item")
    run_safemigrate("scenarioapp", "0001", verbosity=0)
    assert "note" not in columns("scenarioapp_item")
