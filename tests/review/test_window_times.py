"""Maintenance windows as settings: which moments are inside, across midnight, weeks and
daylight saving time; what makes a migration need one. The clock is always given."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from safemigrate.analysis.report import (
    AnalysisReport,
    MigrationReport,
    OperationReport,
    StatementReport,
)
from safemigrate.conf.windows import parse_windows
from safemigrate.exceptions import ConfigurationError
from safemigrate.postgres.locks import LockMode
from safemigrate.postgres.tables import TableStats
from safemigrate.review.window import risks

PARIS = ZoneInfo("Europe/Paris")
UTC = ZoneInfo("UTC")
WINDOWS = [
    {"days": ["sat", "sun"], "start": "00:00", "end": "24:00", "timezone": "Europe/Paris"},
    {"days": ["mon-fri"], "start": "22:00", "end": "06:00", "timezone": "Europe/Paris"},
]


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        ("2026-12-01 14:00", False),  # Tuesday afternoon
        ("2026-12-01 22:00", True),  # Tuesday night, from its first minute
        ("2026-12-02 05:59", True),  # past midnight, still Tuesday's window
        ("2026-12-02 06:00", False),  # the end is outside
        ("2026-12-05 13:00", True),  # Saturday
        ("2026-12-06 23:59", True),  # Sunday until midnight
        ("2026-12-07 05:00", False),  # Monday early: Sunday night has no overnight window
    ],
)
def test_a_moment_is_inside_a_window_or_not(moment: str, inside: bool) -> None:
    windows = parse_windows(WINDOWS)
    assert windows is not None
    assert any(w.contains(paris(moment)) for w in windows) is inside


def test_windows_follow_daylight_saving_time() -> None:
    [nightly] = parse_windows([{"start": "01:00", "end": "03:00", "timezone": "Europe/Paris"}])
    # On 29 March 2026, at 02:00 CET, Paris clocks jump to 03:00 CEST.
    assert nightly.contains(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))  # 01:30 CET
    assert not nightly.contains(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))  # 03:00 CEST
    assert nightly.contains(datetime(2026, 7, 1, 23, 30, tzinfo=UTC))  # 01:30 CEST
    saturday_noon = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert nightly.next_opening(saturday_noon) == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    sunday_noon = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    assert nightly.next_opening(sunday_noon) == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)


def test_day_ranges_wrap_the_week_and_windows_describe_themselves() -> None:
    [weekend] = parse_windows([{"days": "fri-mon", "start": "20:00", "end": "24:00"}])
    assert weekend.days == {4, 5, 6, 0}
    assert weekend.describe() == "mon,fri,sat,sun 20:00-24:00 UTC"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"start": "22:00", "end": "06:00"}, "must be None (no windows) or a list of windows"),
        (["22:00-06:00"], "[0] must be a dict such as"),
        ([{"start": "22:00"}], "[0] needs its 'end' time"),
        ([{"start": "25:00", "end": "06:00"}], "['start'] must be a time 'HH:MM' from 00:00 to 23"),
        ([{"start": "22:00", "end": "6pm"}], "['end'] must be a time 'HH:MM' from 00:00 to 24:00"),
        ([{"start": "22:00", "end": "22:00"}], "for a whole day write 'start': '00:00', 'end'"),
        ([{"days": ["weekend"], "start": "1:00", "end": "2:00"}], "use mon, tue, wed"),
        ([{"days": [], "start": "1:00", "end": "2:00"}], "must be a list of days"),
        ([{"start": "1:00", "end": "2:00", "timezone": "Mars/Olympus"}], "a time zone name"),
        ([{"start": "1:00", "end": "2:00", "timezone": 1}], "a time zone name"),
        ([{"start": "1:00", "end": "2:00", "when": "night"}], "unknown keys ['when']"),
    ],
)
def test_a_bad_window_names_the_fix(raw: Any, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        parse_windows(raw)
    assert message in str(raised.value)


LARGE = {"big": TableStats("big", exists=True, rows=10**8, size_bytes=50 * 2**30)}
SMALL = {"big": TableStats("big", exists=True, rows=10, size_bytes=8192)}
EMPTY = {"big": TableStats("big", exists=True, rows=0, size_bytes=0)}
REWRITE = StatementReport(
    "ALTER TABLE big ALTER COLUMN n TYPE bigint", {"big": LockMode.ACCESS_EXCLUSIVE}, ["big"], []
)
INDEX = StatementReport(
    "CREATE INDEX CONCURRENTLY i ON big (n)", {"big": LockMode.SHARE_UPDATE_EXCLUSIVE}, [], ["big"]
)
ADD_COLUMN = StatementReport(
    "ALTER TABLE big ADD c int", {"big": LockMode.ACCESS_EXCLUSIVE}, [], []
)
UPDATE = StatementReport("UPDATE big SET c = n", {"big": LockMode.ROW_EXCLUSIVE}, [], ["big"])


def plan(*statements: StatementReport, stats: Any, atomic: bool, back: bool = False) -> Any:
    operations = [
        OperationReport(index, statement.sql, None, [statement], stats)
        for index, statement in enumerate(statements)
    ]
    return AnalysisReport([MigrationReport("app", "0002_n", "", atomic, back, operations)])


def why(report: AnalysisReport, long_lock_s: float = 1.0) -> str:
    found = risks(report, long_lock_s)
    return found[0].why if found else ""


def test_a_long_lock_stops_writes_while_a_table_is_rewritten_or_scanned() -> None:
    assert why(plan(REWRITE, stats=LARGE, atomic=False)).startswith(
        "ACCESS EXCLUSIVE lock on big for ~"
    )
    assert why(plan(REWRITE, stats=LARGE, atomic=False)).endswith("(operation #0)")
    assert why(plan(REWRITE, stats=SMALL, atomic=False)) == ""
    assert why(plan(REWRITE, stats=SMALL, atomic=False), long_lock_s=0) != ""
    assert why(plan(REWRITE, stats=EMPTY, atomic=False), long_lock_s=0) == ""
    assert why(plan(REWRITE, stats={}, atomic=False)).endswith(
        "for an unknown time (table size unknown) (operation #0)"
    )


def test_concurrent_work_and_instant_locks_are_no_long_locks() -> None:
    assert why(plan(INDEX, stats=LARGE, atomic=False)) == ""
    assert why(plan(ADD_COLUMN, stats=LARGE, atomic=False), long_lock_s=0) == ""
    assert why(plan(ADD_COLUMN, UPDATE, stats=LARGE, atomic=False)) == ""


def test_an_atomic_migration_holds_its_locks_until_it_commits() -> None:
    reason = why(plan(ADD_COLUMN, UPDATE, stats=LARGE, atomic=True))

    assert reason.startswith("ACCESS EXCLUSIVE lock on big for ~")
    assert reason.endswith("(until the migration's transaction commits)")


def test_a_rollback_never_needs_a_window() -> None:
    assert risks(plan(REWRITE, stats=LARGE, atomic=True, back=True), long_lock_s=0) == []
