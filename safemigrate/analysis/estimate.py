"""A rough duration for an operation, from the bytes it must rewrite, scan or index.

The throughputs are deliberately conservative figures for a loaded server on network
storage; the point is the order of magnitude (milliseconds, seconds or minutes of a lock),
not a promise. ``None`` means a table's size is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from safemigrate.analysis.report import StatementReport
from safemigrate.postgres.tables import TableStats

REWRITE_BYTES_PER_S = 50 * 2**20
SCAN_BYTES_PER_S = 200 * 2**20
INDEX_BYTES_PER_S = 30 * 2**20


def estimate_seconds(
    statements: Iterable[StatementReport], stats: Callable[[str], TableStats | None]
) -> float | None:
    """Return the estimated seconds the statements take, or None if a size is unknown."""
    total = 0.0
    for statement in statements:
        for table in statement.rewrites:
            total += _bytes(stats(table)) / REWRITE_BYTES_PER_S
        for table in statement.scans:
            rate = INDEX_BYTES_PER_S if "INDEX" in statement.sql.upper() else SCAN_BYTES_PER_S
            total += _bytes(stats(table)) / rate
    return None if total != total else round(total, 3)


def _bytes(stats: TableStats | None) -> float:
    """The table's size; NaN when unknown, so the whole estimate is unknown."""
    if stats is None or stats.size_bytes is None:
        return float("nan")
    return stats.size_bytes


def describe(seconds: float | None) -> str:
    """Say an estimate the way an operator reads it."""
    if seconds is None:
        return "unknown size"
    if seconds < 0.1:
        return "instant"
    if seconds < 60:
        return f"~{seconds:.1f}s"
    return f"~{seconds / 60:.0f}min"
