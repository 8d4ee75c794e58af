"""``safemigrate --backfills``: one line per backfill, newest first."""

from __future__ import annotations

from django.db import connections

from safemigrate.backfill.progress import describe
from safemigrate.models import BackfillState
from safemigrate.postgres.tables import relation_exists

HEADER = ("NAME", "DIRECTION", "STATUS", "MODE", "PROGRESS", "UPDATED")


def backfill_table(alias: str) -> str:
    """Return the backfills of database ``alias`` as an aligned text table."""
    with connections[alias].cursor() as cursor:
        if not relation_exists(cursor, BackfillState._meta.db_table):
            return "No backfills: safemigrate's tables do not exist yet (run safemigrate)."
    rows = [HEADER] + [_row(state) for state in BackfillState.objects.using(alias)]
    if len(rows) == 1:
        return "No backfills have run on this database."
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _row(state: BackfillState) -> tuple[str, ...]:
    status = state.status + (f" ({state.request} requested)" if state.request else "")
    updated = state.updated_at.strftime("%Y-%m-%d %H:%M:%S") if state.updated_at else "-"
    return (
        state.name,
        state.direction,
        status,
        state.mode,
        describe(state, state.rate),
        updated,
    )
