"""The query-plan check: the heaviest queries, planned and timed on the copy before and after.

The queries come from ``pg_stat_statements`` of the real database (its heaviest reading
queries, ``REHEARSAL_TOP_QUERIES`` of them) and from ``REHEARSAL_QUERIES``. Each runs
``REPEATS`` times after a warm-up, read-only, and its median execution time is compared; its
plan's shape too. A query the plan breaks fails the rehearsal, and so does one whose plan
changed and which got ``REHEARSAL_SLOWDOWN`` times slower (by more than ``NOISE_MS``, so
that a tenth of a millisecond doubling is not a failure).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from safemigrate.conf import conf
from safemigrate.postgres import queries as probes
from safemigrate.postgres import scratch

REPEATS = 5
NOISE_MS = 1.0


@dataclass
class QueryCheck:
    """One query before and after the plan, and what the comparison says."""

    query: str
    source: str
    before: probes.Measured = field(default_factory=probes.Measured)
    after: probes.Measured = field(default_factory=probes.Measured)
    note: str = ""

    @property
    def plan_changed(self) -> bool:
        before, after = self.before.shape, self.after.shape
        return bool(before and after) and before != after

    @property
    def ratio(self) -> float | None:
        before, after = self.before.median_ms, self.after.median_ms
        if before is None or after is None:
            return None
        return after / max(before, 0.001)

    @property
    def broken(self) -> bool:
        """Whether the query worked before the plan and fails after it."""
        return not self.before.error and bool(self.after.error)

    @property
    def ruined(self) -> bool:
        """Whether the plan broke the query, or changed its plan and made it much slower."""
        limit = conf.rehearsal_slowdown
        before, after = self.before.median_ms, self.after.median_ms
        slower = (
            limit is not None
            and self.ratio is not None
            and self.ratio >= limit
            and (after or 0) - (before or 0) > NOISE_MS
        )
        return self.broken or (self.plan_changed and slower)

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "source": self.source,
            "before": vars(self.before),
            "after": vars(self.after),
            "plan_changed": self.plan_changed,
            "ratio": self.ratio,
            "ruined": self.ruined,
            "note": self.note,
        }


def chosen(params: Mapping[str, Any], source: str, notes: list[str]) -> list[QueryCheck]:
    """Return the queries to replay: the heaviest from the real database, then the settings'."""
    checks = [QueryCheck(query, "settings") for query in conf.rehearsal_queries]
    limit = conf.rehearsal_top_queries
    if not limit:
        return checks
    with scratch.connect(params, source) as real:
        heaviest = probes.heaviest(real, limit)
    if heaviest is None:
        notes.append(
            "pg_stat_statements is not available on this database (not installed, or not in "
            "shared_preload_libraries): only SAFEMIGRATE['REHEARSAL_QUERIES'] were replayed."
        )
        return checks
    known = {check.query for check in checks}
    return [*(QueryCheck(q, "pg_stat_statements") for q in heaviest if q not in known), *checks]


def measure_all(
    params: Mapping[str, Any], database: str, checks: list[QueryCheck], after: bool
) -> None:
    """Measure every query on the copy, into its ``before`` or ``after``."""
    with scratch.connect(params, database) as copy:
        generic_plans = copy.info.server_version >= 160000
        copy.execute("ANALYZE")  # a fresh column or index has no statistics yet
        for check in checks:
            parameterised = probes.parameterised(check.query)
            if parameterised and not generic_plans:
                check.note = "has parameters ($1): PostgreSQL 16 or later can plan it; skipped"
                continue
            if parameterised:
                check.note = "has parameters ($1): generic plan compared, not timed"
            measured = probes.measure(
                copy,
                check.query,
                repeats=REPEATS,
                timeout_ms=conf.rehearsal_query_timeout_ms,
                generic=parameterised,
            )
            if after:
                check.after = measured
            else:
                check.before = measured
