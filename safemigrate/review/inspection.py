"""What the runbook and the gate know about each operation of a plan, before anything runs.

For every operation: its SQL (rendered by the schema editor in ``collect_sql`` mode, as
``sqlmigrate`` does), the tables it touches with their live size, the strongest lock it takes,
whether it can be reversed, its expand/contract phase, a rough duration, whether it breaks
running code (and so the migration's deploy phase), and the findings of the analysis
engine, which come from one replaceable function: ``FINDINGS_SOURCE``.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.migrations.writer import MigrationWriter

from safemigrate.deploy.phases import MigrationPhase, migration_phase
from safemigrate.postgres.locks import LockMode
from safemigrate.postgres.statements import StatementInfo, classify
from safemigrate.postgres.tables import TableStats, table_stats
from safemigrate.review import impact
from safemigrate.review.plan import PlanStep, applied_leaves, rollback_target

#: Finding levels, most severe first; "error" is what ``REQUIRE_APPROVAL = "errors"`` gates.
LEVELS = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One risk the analysis engine found in an operation."""

    rule: str
    level: str
    message: str
    hint: str = ""


#: (app_label, migration name, operation index) -> that operation's findings.
FindingsMap = Mapping[tuple[str, str, int], Sequence[Finding]]


@dataclass(frozen=True)
class PlanRequest:
    """What a findings source is asked about: the plan, and the targets it was resolved from
    (``manage.py safemigrate [app_label] [migration_name]``), for engines that plan themselves.
    """

    connection: BaseDatabaseWrapper
    steps: Sequence[PlanStep]
    app_label: str | None = None
    migration_name: str | None = None


FindingsSource = Callable[[PlanRequest], FindingsMap]


def engine_findings(request: PlanRequest) -> FindingsMap:
    """Ask the analysis engine about the plan; an acknowledged error counts as a warning."""
    from safemigrate.analysis.engine import analyse
    from safemigrate.analysis.lint import context_from
    from safemigrate.analysis.plan import Selection
    from safemigrate.analysis.rules import get_rule

    selection = Selection(request.app_label, request.migration_name, include_third_party=True)
    report = analyse(request.connection, selection, context_from(request.connection, selection))
    return {
        (migration.app_label, migration.name, operation.index): [
            Finding(
                finding.rule_id,
                "warning" if finding.acknowledged else finding.severity.label,
                finding.message,
                get_rule(finding.rule_id).safe,
            )
            for finding in operation.findings
        ]
        for migration in report.migrations
        for operation in migration.operations
    }


#: Where findings come from: the analysis engine; tests may swap this one name.
FINDINGS_SOURCE: FindingsSource = engine_findings


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
    estimated_ms: int | None
    breaking: str = ""
    findings: list[Finding] = field(default_factory=list)

    @property
    def lock_name(self) -> str:
        return self.lock.name.replace("_", " ") if self.lock else "none"


@dataclass
class MigrationInfo:
    """One migration of the plan, its operations, and where a rollback would go back to."""

    step: PlanStep
    atomic: bool
    rollback_to: str
    fingerprint: str
    operations: list[OperationInfo]
    #: When it may run: before the new code is live, or once the old code is gone.
    deploy_phase: MigrationPhase

    @property
    def findings(self) -> list[Finding]:
        return [finding for op in self.operations for finding in op.findings]

    @property
    def has_errors(self) -> bool:
        return any(finding.level == "error" for finding in self.findings)

    @property
    def estimated_ms(self) -> int:
        """The sum of the estimates that are known (see ``runs_python`` for the rest)."""
        return sum(op.estimated_ms or 0 for op in self.operations)

    @property
    def runs_python(self) -> bool:
        """Whether part of the migration is Python code, whose duration nobody can estimate."""
        return any(op.estimated_ms is None for op in self.operations)


@dataclass
class PlanInfo:
    """The inspected plan: its migrations, the live size of every table, the applied state."""

    migrations: list[MigrationInfo]
    tables: dict[str, TableStats]
    schema_state: dict[str, str]


def inspect_plan(
    connection: BaseDatabaseWrapper,
    executor: MigrationExecutor,
    steps: Sequence[PlanStep],
    app_label: str | None = None,
    migration_name: str | None = None,
) -> PlanInfo:
    """Describe every operation of the plan; reads the catalog, writes nothing."""
    findings = FINDINGS_SOURCE(PlanRequest(connection, steps, app_label, migration_name))
    migrations = [_migration(connection, executor, step, findings) for step in steps]
    names = sorted({t for m in migrations for op in m.operations for t in op.tables})
    with connection.cursor() as cursor:
        tables = {name: table_stats(cursor, name) for name in names}
    for migration in migrations:
        for op in migration.operations:
            op.estimated_ms = _estimate(op, tables)
    return PlanInfo(migrations, tables, applied_leaves(executor.loader))


def fingerprint(migration: Migration) -> str:
    """Return a hash of the migration's source, so an edit after approval is noticed."""
    module = sys.modules.get(type(migration).__module__)
    path = getattr(module, "__file__", None)
    if path and Path(path).is_file():
        source = Path(path).read_bytes()
    else:
        source = MigrationWriter(migration, include_header=False).as_string().encode()
    return hashlib.sha256(source).hexdigest()


def _migration(
    connection: BaseDatabaseWrapper,
    executor: MigrationExecutor,
    step: PlanStep,
    findings: FindingsMap,
) -> MigrationInfo:
    migration = step.migration
    state = executor.loader.project_state(step.key, at_end=False)
    ops = _operations(connection, migration, state, step.backwards)
    for op in ops:
        op.findings = list(findings.get((*step.key, op.index), ()))
    return MigrationInfo(
        step=step,
        atomic=migration.atomic,
        rollback_to=applied_leaves(executor.loader).get(step.key[0], "zero")
        if step.backwards
        else rollback_target(executor.loader, step),
        fingerprint=fingerprint(migration),
        operations=ops,
        deploy_phase=migration_phase(migration),
    )


def _operations(
    connection: BaseDatabaseWrapper, migration: Migration, state: ProjectState, backwards: bool
) -> list[OperationInfo]:
    """Render each operation's SQL in order, carrying the project state along as ``apply`` does."""
    ordered = list(enumerate(migration.operations))
    states: list[tuple[ProjectState, ProjectState]] = []
    current = state
    # Render the models once: state_forwards() then updates the rendered apps in place and
    # clones copy them, as in Migration.apply(); otherwise every clone renders from scratch.
    current.apps  # noqa: B018
    for _, operation in ordered:
        before = current.clone()
        operation.state_forwards(migration.app_label, current)
        states.append((before, current.clone()))
    result = []
    for (index, operation), (before, after) in zip(ordered, states, strict=True):
        sql = _collect_sql(connection, migration, operation, before, after, backwards)
        result.append(_describe(index, operation, migration.app_label, sql, backwards))
    return list(reversed(result)) if backwards else result


def _collect_sql(
    connection: BaseDatabaseWrapper,
    migration: Migration,
    operation: Operation,
    before: ProjectState,
    after: ProjectState,
    backwards: bool,
) -> list[str]:
    if not operation.reduces_to_sql:
        return []
    try:
        # Leaving the block appends the deferred SQL (foreign keys, indexes of new tables).
        with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
            if backwards:
                operation.database_backwards(migration.app_label, editor, after, before)
            else:
                operation.database_forwards(migration.app_label, editor, before, after)
        return list(editor.collected_sql)
    except (DatabaseError, NotImplementedError, ValueError) as error:
        return [f"-- safemigrate could not render this operation's SQL: {error}"]


def _describe(
    index: int, operation: Operation, app_label: str, sql: list[str], backwards: bool
) -> OperationInfo:
    statements = [info for text in sql if not text.startswith("--") for info in classify(text)]
    return OperationInfo(
        index=index,
        kind=type(operation).__name__,
        description=operation.describe(),
        sql=sql,
        tables=_tables(statements),
        lock=max((s.strongest for s in statements if s.strongest), default=None),
        reversible=bool(operation.reversible),
        phase="rollback" if backwards else impact.phase(operation, statements),
        estimated_ms=None,
        breaking=impact.breaking(operation, sql, backwards),
    )


def _tables(statements: list[StatementInfo]) -> list[str]:
    """Return the tables the statements lock or create (index locks name the index, skipped)."""
    names = {lock.name for s in statements for lock in s.locks if not lock.via_index}
    names |= {name for s in statements for name in s.creates}
    return sorted(name for name in names if name)


def _estimate(op: OperationInfo, tables: Mapping[str, TableStats]) -> int | None:
    """Estimate from the size of the table each statement works on (its first lock)."""
    if op.kind == "RunPython":
        return None
    pairs = []
    for text in op.sql:
        infos = [] if text.startswith("--") else classify(text)
        names = [lock.name for info in infos for lock in info.locks if not lock.via_index]
        stats = tables.get(names[0]) if names else None
        pairs.append((text, (stats.size_bytes or 0) if stats else 0))
    return impact.estimate_ms(pairs)
