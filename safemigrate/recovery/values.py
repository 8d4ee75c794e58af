"""Rollback steps that need back the values a drop took with it.

Unapplying a migration that dropped a column puts the column back, empty: its data went
with the drop. A later step of the same rollback that needs a value in every row of that
column (restoring its NOT NULL, as the contract half of an expand/contract migration does
backwards) then fails on any table with rows, half-way through the rollback. Reading the
rollback's statements in order finds that pair before anything runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from safemigrate.analysis.report import MigrationReport, StatementReport
from safemigrate.postgres.column_values import Column, column_effects
from safemigrate.postgres.sessions import set_settings
from safemigrate.postgres.tables import has_rows


def lost_values(connection: BaseDatabaseWrapper, reports: Sequence[MigrationReport]) -> list[str]:
    """Name each step that needs values in a column the rollback puts back empty."""
    emptied_by: dict[Column, str] = {}
    problems = []
    for report in reports:
        for op in report.operations:
            if op.writes_rows:
                # Its statements are not the whole story (batches or Python fill rows between
                # them): assume it fills what it touches, so no rollback is refused on a guess.
                written = {*op.tables, *(t for s in op.statements for t in s.creates)}
                for column in [c for c in emptied_by if c[0] in written]:
                    del emptied_by[column]
                continue
            problems += _statement_problems(connection, report.label, op.statements, emptied_by)
    return problems


def _statement_problems(
    connection: BaseDatabaseWrapper,
    label: str,
    statements: Sequence[StatementReport],
    emptied_by: dict[Column, str],
) -> list[str]:
    problems = []
    for statement in statements:
        effects = column_effects(statement.sql)
        for column in [c for c in emptied_by if c[0] in effects.written]:
            del emptied_by[column]  # the step may fill it
        for column in effects.emptied:
            emptied_by.setdefault(column, label)
        for column in sorted(effects.required & emptied_by.keys()):
            origin = emptied_by.pop(column)
            if _has_rows(connection, column[0]):
                problems.append(_problem(label, origin, column))
    return problems


def _problem(label: str, origin: str, column: Column) -> str:
    table, name = column
    if origin == label:
        return (
            f"Unapplying {label} adds {table}.{name} NOT NULL with no default, which fails "
            f"on the rows {table} holds."
        )
    return (
        f"Unapplying {label} needs a value in every row of {table}.{name}, which unapplying "
        f"{origin} puts back empty (its data went when the column was dropped): it would "
        f"fail on the rows {table} holds."
    )


def _has_rows(connection: BaseDatabaseWrapper, table: str) -> bool:
    """Whether the table has rows; a table locked by someone else is taken to have some."""
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            set_settings(cursor, {"lock_timeout": "2s"}, local=True)
            return has_rows(cursor, table)
    except DatabaseError:
        return True
