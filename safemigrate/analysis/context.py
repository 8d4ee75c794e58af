"""What the analysis knows beyond the SQL: table sizes, hot tables, the tables a plan creates.

Context is what keeps a linter honest. An index on a table created two migrations earlier
cannot block anyone; a rewrite of a 200-row lookup table takes milliseconds; a metadata-only
change on the orders table still queues every checkout behind its lock request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from safemigrate.analysis.rules import Rule, Severity
from safemigrate.postgres.tables import TableStats

StatsProbe = Callable[[str], TableStats | None]


@dataclass
class AnalysisContext:
    """Settings and live facts one analysis runs with.

    ``assume_production`` judges every table as a large one in use (the CI mode): no
    statistics are read, and only tables created by the judged migrations count as new.
    """

    assume_production: bool = False
    small_table_rows: int = 10_000
    hot_tables: frozenset[str] = frozenset()
    probe: StatsProbe | None = None
    #: Rows written per second above which a table is hot, and how to read a table's rate.
    hot_writes_per_second: float | None = None
    write_rate: Callable[[str], float | None] | None = None
    #: Which table a live index belongs to, and which columns a table's validated CHECK
    #: constraints prove NOT NULL (live, for tables the plan has not created).
    index_probe: Callable[[str], str | None] | None = None
    not_null_probe: Callable[[str], set[str]] | None = None
    created: set[str] = field(default_factory=set)
    index_tables: dict[str, str] = field(default_factory=dict)
    backwards: bool = False
    _stats: dict[str, TableStats | None] = field(default_factory=dict)
    _proven: dict[str, set[str]] = field(default_factory=dict)

    def stats(self, table: str) -> TableStats | None:
        """Return the table's live size, or None when unknown (then it is judged as large)."""
        if self.assume_production or self.probe is None or not table:
            return None
        if table not in self._stats:
            self._stats[table] = self.probe(table)
        return self._stats[table]

    def is_hot(self, table: str) -> bool:
        """Whether ``table`` is listed as hot, or (live) written faster than the threshold."""
        if table in self.hot_tables:
            return True
        if self.assume_production or self.write_rate is None or table in self.created:
            return False
        if self.hot_writes_per_second is None:
            return False
        rate = self.write_rate(table)
        return rate is not None and rate >= self.hot_writes_per_second

    def table_of(self, name: str, via_index: bool = False) -> str:
        """Return the table behind ``name`` when it names an index, else ``name``.

        Indexes the plan's state does not name (a ``db_index``) are looked up live.
        """
        if name in self.index_tables or not via_index:
            return self.index_tables.get(name, name)
        table = None
        if self.index_probe is not None and not self.assume_production:
            table = self.index_probe(name)
        self.index_tables[name] = table or name
        return self.index_tables[name]

    def proven_not_null(self, table: str) -> set[str]:
        """Return the columns a validated live CHECK constraint proves NOT NULL."""
        if self.assume_production or self.not_null_probe is None or table in self.created:
            return set()
        if table not in self._proven:
            self._proven[table] = self.not_null_probe(table)
        return self._proven[table]


def fixed_stats(sizes: Mapping[str, TableStats]) -> StatsProbe:
    """A probe answering from a mapping: for tests, the corpus and the benchmark."""
    return sizes.get


#: An adjustment maps (rule, table, context, severity) to a new severity (None drops the
#: finding) and a note saying why; they run in this order.
Adjustment = Callable[[Rule, str, AnalysisContext, Severity], tuple[Severity | None, str]]


def _new_table(
    rule: Rule, table: str, ctx: AnalysisContext, sev: Severity
) -> tuple[Severity | None, str]:
    if rule.new_table_safe and table in ctx.created:
        return None, "table created earlier in this plan"
    return sev, ""


def _small_table(
    rule: Rule, table: str, ctx: AnalysisContext, sev: Severity
) -> tuple[Severity | None, str]:
    rows = None if (stats := ctx.stats(table)) is None else stats.known_rows
    if not rule.size_matters or rows is None:
        return sev, ""
    if rows < ctx.small_table_rows:
        return Severity.INFO, f"small table: about {rows} rows"
    return sev, ""


def _rollback(
    rule: Rule, table: str, ctx: AnalysisContext, sev: Severity
) -> tuple[Severity | None, str]:
    # A rollback is the emergency exit: report what it destroys, never block it.
    if ctx.backwards and sev > Severity.WARNING:
        return Severity.WARNING, "rollback"
    return sev, ""


ADJUSTMENTS: tuple[Adjustment, ...] = (_new_table, _small_table, _rollback)


def judge(rule: Rule, table: str, ctx: AnalysisContext) -> tuple[Severity | None, str]:
    """Return the severity ``rule`` has on ``table`` in this context, and why it changed."""
    severity: Severity | None = rule.severity
    notes = []
    for adjust in ADJUSTMENTS:
        assert severity is not None
        severity, note = adjust(rule, table, ctx, severity)
        if note:
            notes.append(note)
        if severity is None:
            break
    return severity, "; ".join(notes)
