"""What the runbook and the gate know about each operation of a plan, before anything runs.

Everything here is read from the one judged plan (``safemigrate.analysis.lint.judge``): the
SQL each operation emits, the tables it touches with their live size, the strongest lock
it takes, the findings, a rough duration. The review adds what only reviewers ask about:
whether the operation can be reversed, its expand/contract phase, whether it breaks
running code, where a rollback goes back to, and the fingerprint an approval covers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.operations.base import Operation

from safemigrate.analysis.lint import judge
from safemigrate.analysis.plan import PlanItem, Selection
from safemigrate.analysis.report import AnalysisReport, Finding, MigrationReport, OperationReport
from safemigrate.deploy.phases import MigrationPhase, migration_phase
from safemigrate.postgres.locks import LockMode
from safemigrate.postgres.tables import TableStats
from safemigrate.review import impact
from safemigrate.review.reviews import fingerprint
from safemigrate.review.rollback import applied_leaves, rollback_target


@dataclass
class OperationInfo:
    """What one operation will do, as far as can be known without running it."""

    index: int
    kind: str
    description: str
    sql: list[str]
    tables: list[str]
    lock: LockMode | None
    reversible: bool
    phase: str
    #: ``None`` for Python code (nobody can estimate it) or a table of unknown size.
    estimated_ms: int | None
    python: bool = False
    breaking: str = ""
    findings: list[Finding] = field(default_factory=list)

    @property
    def lock_name(self) -> str:
        return self.lock.name.replace("_", " ") if self.lock else "none"


@dataclass
class MigrationInfo:
    """One migration of the plan, its operations, and where a rollback would go back to."""

    item: PlanItem
    atomic: bool
    rollback_to: str
    fingerprint: str
    operations: list[OperationInfo]
    #: Before or after the new code is live (``deploy/``), and why.
    deploy_phase: MigrationPhase

    @property
    def findings(self) -> list[Finding]:
        return [finding for op in self.operations for finding in op.findings]

    @property
    def has_errors(self) -> bool:
        """Whether an unacknowledged error stops it: what ``REQUIRE_APPROVAL = "errors"`` gates."""
        return any(finding.blocking for finding in self.findings)

    @property
    def estimated_ms(self) -> int:
        """The sum of the estimates that are known (see ``runs_python`` for the rest)."""
        return sum(op.estimated_ms or 0 for op in self.operations)

    @property
    def runs_python(self) -> bool:
        """Whether part of the migration is Python code, whose duration nobody can estimate."""
        return any(op.python for op in self.operations)


@dataclass
class PlanInfo:
    """The inspected plan: its migrations, the live size of every table, the applied state."""

    migrations: list[MigrationInfo]
    tables: dict[str, TableStats]
    schema_state: dict[str, str]


def inspect_plan(
    connection: BaseDatabaseWrapper,
    app_label: str | None = None,
    migration_name: str | None = None,
) -> PlanInfo:
    """Judge and describe the plan ``safemigrate [app_label] [migration_name]`` would run.

    Every migration is judged, third-party ones too: a reviewer reads the whole plan.
    """
    selection = Selection(app_label, migration_name, include_third_party=True)
    return plan_info(judge(connection, selection))


def plan_info(report: AnalysisReport) -> PlanInfo:
    """Describe a judged plan for reviewers; reads nothing more from the database."""
    judged = {(m.app_label, m.name): m for m in report.migrations}
    migrations = [
        _migration(report, item, judged[item.key]) for item in report.items if item.key in judged
    ]
    tables = {
        name: stats
        for m in report.migrations
        for op in m.operations
        for name, stats in op.stats.items()
    }
    return PlanInfo(migrations, dict(sorted(tables.items())), applied_leaves(report.loader))


def _migration(report: AnalysisReport, item: PlanItem, judged: MigrationReport) -> MigrationInfo:
    loader = report.loader
    return MigrationInfo(
        item=item,
        atomic=judged.atomic,
        rollback_to=applied_leaves(loader).get(item.key[0], "zero")
        if item.backwards
        else rollback_target(loader, item.key),
        fingerprint=fingerprint(item.migration),
        operations=[
            _operation(op, item.migration.operations[op.index], item.backwards)
            for op in judged.operations
        ],
        deploy_phase=migration_phase(item.migration),
    )


def _operation(op: OperationReport, operation: Operation, backwards: bool) -> OperationInfo:
    estimate = None if op.python or op.estimate_s is None else round(op.estimate_s * 1000)
    sql = [s.sql for s in op.statements]
    if op.sql_error:
        sql.append(f"-- safemigrate could not render this operation's SQL: {op.sql_error}")
    return OperationInfo(
        index=op.index,
        kind=op.kind,
        description=op.description,
        sql=sql,
        tables=sorted({t for s in op.statements for t in (*s.locks, *s.creates)}),
        lock=op.strongest,
        reversible=op.reversible,
        phase="rollback" if backwards else impact.phase(operation, op.statements),
        estimated_ms=estimate,
        python=op.python,
        breaking=impact.breaking(op.facts),
        findings=list(op.findings),
    )
