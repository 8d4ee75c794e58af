"""A transition killed (SIGKILL, as ``kill -9``) at any step is finished by a rerun or by
``--doctor``, or undone by ``--doctor --undo``: no row wrong, nothing left behind.

While the migration is dead, the old code keeps writing: those writes must be in the result.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any

import pytest

from safemigrate.models import BackfillState
from tests.backfill.backfill_helpers import ROOT, database_url, wait_for
from tests.conftest import run_safemigrate
from tests.operations import test_rebuild as rebuild
from tests.operations.expand_helpers import (
    NAMES,
    applied,
    column_type,
    leftovers,
    query,
    seed,
)

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 3000
STEADY = {"BACKFILL_BATCH_SIZE": 50, "BACKFILL_MAX_BATCH_SIZE": 50, "BACKFILL_PAUSE": "5ms"}
MID_BACKFILL = "mid-backfill"
#: What the old code writes while the migration is dead, and what each row must then hold.
OUTAGE = {
    "0002": ("UPDATE scenarioapp_item SET email = 'z' || id WHERE id <= 50", "email"),
    "0004": ("UPDATE scenarioapp_item SET qty = 1000 + id WHERE id <= 50", "qty"),
    "0007": ("UPDATE scenarioapp_item SET qty = 1000 + id WHERE id <= 50", "qty"),
}


def crash(target: str, step: str, scenario: str = "expand", **settings: Any) -> None:
    """Apply ``target`` in another process, killed right after ``step`` (or mid-backfill)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "SAFEMIGRATE_TEST_MIGRATIONS": scenario,
        "SAFEMIGRATE_TEST_SETTINGS": json.dumps(STEADY | settings),
    }
    argv = [sys.executable, "-m", "tests.operations.crash", step, "scenarioapp", target]
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        if step == MID_BACKFILL:
            wait_for(lambda: _rows_done() >= 500, what="the backfill to get going")
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=120)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL, process.stdout.read() if process.stdout else ""


def _rows_done() -> int:
    state = BackfillState.objects.filter(app_label="scenarioapp").order_by("-pk").first()
    return state.rows_done if state else 0


def expected(column: str) -> list[tuple[Any, ...]]:
    if column == "email":
        return [(n, f"z{n}" if n <= 50 else f"e{n}@x.test") for n in range(1, ROWS + 1)]
    return [(n, 1000 + n if n <= 50 else n) for n in range(1, ROWS + 1)]


def values(column: str) -> list[tuple[Any, ...]]:
    return query(f"SELECT id, {column} FROM scenarioapp_item ORDER BY id")


CASES = [
    ("0002", "add column email_address"),
    ("0002", "install trigger"),
    ("0002", MID_BACKFILL),
    ("0002", "backfill"),
    ("0002", "validate check"),
    ("0002", "prepared"),
    ("0004", "install trigger"),
    ("0004", MID_BACKFILL),
    ("0004", "prepared"),  # before the swap
    ("0004", "retire qty"),  # after the swap, before the migration is recorded
    ("0007", "prepared"),
    ("0007", "retire id"),
]


def start(scenario: Any, target: str) -> str:
    """The scenario at the migration before ``target``, seeded; return that migration."""
    scenario("expand")
    before = {"0002": "0001", "0004": "0003", "0007": "0006"}[target]
    run_safemigrate("scenarioapp", before)
    seed(ROWS)
    return before


@pytest.mark.parametrize(("target", "step"), CASES)
def test_a_rerun_finishes_what_was_killed(scenario: Any, target: str, step: str) -> None:
    start(scenario, target)
    crash(target, step)
    outage, column = OUTAGE[target]
    query(outage)

    run_safemigrate("scenarioapp", target)

    assert NAMES[target] in applied()
    if target == "0002":
        run_safemigrate("scenarioapp", "0003")  # the contract
        column = "email_address"
    assert values(column) == expected(OUTAGE[target][1])
    assert leftovers() == []


@pytest.mark.parametrize(
    ("target", "step"),
    [("0002", MID_BACKFILL), ("0002", "prepared"), ("0004", MID_BACKFILL), ("0004", "retire qty")],
)
@pytest.mark.parametrize("undo", [False, True], ids=["finish", "undo"])
def test_the_doctor_finishes_or_undoes_what_was_killed(
    scenario: Any, target: str, step: str, undo: bool
) -> None:
    before = start(scenario, target)
    crash(target, step)
    outage, column = OUTAGE[target]
    query(outage)

    output = run_safemigrate(doctor=True, yes=True, undo=undo)

    assert f"{NAMES[target]} stopped midway" in output.out
    if undo:
        assert NAMES[target] not in applied()
        assert NAMES[before] in applied()
    else:
        assert NAMES[target] in applied()
        if target == "0002":
            run_safemigrate("scenarioapp", "0003")
            column = "email_address"
    assert values(column) == expected(OUTAGE[target][1])
    assert leftovers() == []
    assert "Nothing to do" in run_safemigrate(doctor=True).out


@pytest.mark.parametrize("undo", [False, True], ids=["finish", "undo"])
def test_without_a_run_history_the_doctor_reads_what_the_migration_files_leave(
    scenario: Any, settings: Any, undo: bool
) -> None:
    settings.SAFEMIGRATE = {"HISTORY": False}
    start(scenario, "0004")
    crash("0004", MID_BACKFILL, HISTORY=False)
    query(OUTAGE["0004"][0])

    output = run_safemigrate(doctor=True, yes=True, undo=undo)

    assert "AlterFieldTypeSafely of scenarioapp.0004_qty_bigint was interrupted" in output.out
    assert (NAMES["0004"] in applied()) is not undo
    assert values("qty") == expected("qty")
    assert column_type("qty") == ("integer" if undo else "bigint")
    assert leftovers() == []


@pytest.mark.parametrize("step", ["create shadow table", MID_BACKFILL, "prepared", "swap"])
def test_a_killed_table_rebuild_is_finished_by_a_rerun(scenario: Any, step: str) -> None:
    scenario("rebuild")
    run_safemigrate("scenarioapp", "0001")
    rebuild.seed()
    crash("0002", step, scenario="rebuild")
    query("UPDATE scenarioapp_item SET qty = 1000 + id WHERE id <= 50")  # the old code

    run_safemigrate("scenarioapp")

    qty = [(n, 1000 + n if n <= 50 else n) for n in range(1, rebuild.ROWS + 1)]
    assert query("SELECT id, qty FROM scenarioapp_item ORDER BY id") == qty
    assert rebuild.side_tables() == []
    assert leftovers() == []
