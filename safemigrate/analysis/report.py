"""What the analysis found: per statement, per operation, per migration, per plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from safemigrate.analysis.rules import Severity, get_rule
from safemigrate.analysis.sqlfacts import Fact
from safemigrate.postgres.locks import LockMode
from safemigrate.postgres.tables import TableStats


@dataclass(frozen=True)
class Finding:
    """One rule that fired on one operation, with the severity the context gave it."""

    rule_id: str
    severity: Severity
    table: str
    message: str
    acknowledged: str = ""
    context: str = ""

    @property
    def blocking(self) -> bool:
        """Whether this finding stops ``safemigrate`` (an unacknowledged error)."""
        return self.severity == Severity.ERROR and not self.acknowledged

    def as_dict(self) -> dict[str, Any]:
        rule = get_rule(self.rule_id)
        return {
            "rule": self.rule_id,
            "severity": self.severity.label,
            "title": rule.title,
            "table": self.table,
            "message": self.message,
            "why": rule.why,
            "safe_alternative": rule.safe,
            "docs": rule.docs,
            "acknowledged": self.acknowledged or None,
            "context": self.context or None,
        }


@dataclass
class StatementReport:
    """One SQL statement: the locks it takes, and the tables it rewrites or reads whole."""

    sql: str
    locks: dict[str, LockMode]
    rewrites: list[str]
    scans: list[str]
    creates: list[str] = field(default_factory=list)
    #: Whether it changes schema (rather than reading or writing rows).
    ddl: bool = True
    trace: Any = None
    disagreement: str = ""

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "sql": self.sql,
            "locks": {table: mode.pg_name for table, mode in self.locks.items()},
            "rewrites": self.rewrites,
            "scans": self.scans,
        }
        if self.trace is not None:
            found["trace"] = {
                "observed": self.trace.observed,
                "error": self.trace.error or None,
                "locks": {t: m.pg_name for t, m in sorted(self.trace.locks.items())},
                "rewritten": sorted(self.trace.rewritten),
                "disagreement": self.disagreement or None,
            }
        return found


@dataclass
class OperationReport:
    """One operation of a migration, judged.

    ``python`` marks code whose duration nobody can estimate; ``writes_rows`` an operation
    that writes rows its statements do not show (Python code, or batches); ``sql_error`` says
    why the SQL could not be collected (the operation was then judged from itself); ``facts``
    are what the findings were judged from, for the runbook's account of what breaks.
    """

    index: int
    description: str
    line: int | None
    statements: list[StatementReport] = field(default_factory=list)
    stats: dict[str, TableStats] = field(default_factory=dict)
    estimate_s: float | None = None
    findings: list[Finding] = field(default_factory=list)
    kind: str = ""
    reversible: bool = True
    python: bool = False
    writes_rows: bool = False
    sql_error: str = ""
    facts: list[Fact] = field(default_factory=list)

    @property
    def tables(self) -> list[str]:
        return sorted({table for s in self.statements for table in s.locks})

    @property
    def strongest(self) -> LockMode | None:
        return max((m for s in self.statements for m in s.locks.values()), default=None)

    def as_dict(self) -> dict[str, Any]:
        strongest = self.strongest
        return {
            "index": self.index,
            "operation": self.description,
            "kind": self.kind,
            "line": self.line,
            "tables": self.tables,
            "lock": strongest.pg_name if strongest else None,
            "rewrites": sorted({t for s in self.statements for t in s.rewrites}),
            "scans": sorted({t for s in self.statements for t in s.scans}),
            "stats": {
                t: {"rows": s.rows, "bytes": s.size_bytes, "counted": s.counted}
                for t, s in self.stats.items()
            },
            "estimate_s": self.estimate_s,
            "sql_error": self.sql_error or None,
            "statements": [s.as_dict() for s in self.statements],
            "findings": [f.as_dict() for f in self.findings],
        }


@dataclass
class MigrationReport:
    """One migration of the plan, in the direction the plan runs it."""

    app_label: str
    name: str
    path: str
    atomic: bool
    backwards: bool
    operations: list[OperationReport] = field(default_factory=list)
    #: The migration itself (``django.db.migrations.Migration``), for the review's fingerprint.
    migration: Any = field(default=None, repr=False)
    #: The project state after the migration (forwards), for the next one in the plan.
    state_after: Any = field(default=None, repr=False)
    #: How rolling this forward migration back would be judged (``--lint`` only).
    rollback: MigrationReport | None = None

    @property
    def label(self) -> str:
        return f"{self.app_label}.{self.name}"

    @property
    def findings(self) -> list[Finding]:
        return [f for op in self.operations for f in op.findings]

    @property
    def blocking(self) -> bool:
        """Whether an unacknowledged error-level finding stops this migration."""
        return any(f.blocking for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "migration": self.label,
            "path": self.path,
            "atomic": self.atomic,
            "direction": "backwards" if self.backwards else "forwards",
            "operations": [op.as_dict() for op in self.operations],
            "rollback": None if self.rollback is None else self.rollback.as_dict(),
        }


@dataclass
class AnalysisReport:
    """The whole plan, judged; ``skipped`` says which migrations were left out and why."""

    migrations: list[MigrationReport] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    assume_production: bool = False
    #: The plan it judged (``plan.PlanItem``), which ``--trace`` replays and the runbook lists.
    items: list[Any] = field(default_factory=list)
    #: The loader the plan came from: what is applied, and the graph, for the runbook.
    loader: Any = field(default=None, repr=False)
    #: Said to the operator when the analysis could not judge a rollback (which runs anyway).
    warning: str = ""

    @property
    def findings(self) -> list[Finding]:
        return [f for m in self.migrations for f in m.findings]

    @property
    def blocking(self) -> list[tuple[MigrationReport, OperationReport, Finding]]:
        """Unacknowledged error-level findings: what makes ``--lint`` exit 1."""
        return [
            (m, op, f)
            for m in self.migrations
            for op in m.operations
            for f in op.findings
            if f.blocking
        ]

    def rule_ids(self) -> list[str]:
        """Every rule id found, sorted, with repeats: what the test corpus asserts."""
        return sorted(f.rule_id for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "assume_production": self.assume_production,
            "migrations": [m.as_dict() for m in self.migrations],
            "skipped": self.skipped,
            "blocking": len(self.blocking),
        }
