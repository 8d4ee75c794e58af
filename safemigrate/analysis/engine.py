"""The analysis engine: the plan in, a judged report out; nothing is written anywhere.

For each operation it collects the SQL (``collect``), reads each statement's locks and
facts (``statements`` and ``sqlfacts``), adds the facts only the operation shows (a
RunPython without reverse code), then looks every fact's rule up in the catalogue and lets
the context (``context``) set its severity.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations import RunPython, RunSQL
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from safemigrate.analysis.allowances import migration_allowances
from safemigrate.analysis.collect import CollectedOperation, collect
from safemigrate.analysis.context import AnalysisContext, judge
from safemigrate.analysis.estimate import estimate_seconds
from safemigrate.analysis.introspection import PlanCatalog
from safemigrate.analysis.newtables import only_new_tables
from safemigrate.analysis.operation_facts import facts_alone, model_state_of, operation_facts
from safemigrate.analysis.plan import PlanItem, Selection, build_plan, migration_path
from safemigrate.analysis.report import (
    AnalysisReport,
    Finding,
    MigrationReport,
    OperationReport,
    StatementReport,
)
from safemigrate.analysis.rules import by_fact
from safemigrate.analysis.source import line_of
from safemigrate.analysis.sqlfacts import (
    Fact,
    SchemaMemory,
    StatementFacts,
    statement_facts,
)
from safemigrate.analysis.state import (
    column_resolver,
    index_tables,
    knows,
    not_null_by_checks,
    reference_resolver,
    table_names,
    table_of,
    unrendered,
)
from safemigrate.postgres.locks import LockMode
from safemigrate.postgres.tables import (
    TableStats,
)


def analyse(
    connection: BaseDatabaseWrapper,
    selection: Selection,
    ctx: AnalysisContext,
    plan: tuple[MigrationExecutor, list[PlanItem]] | None = None,
) -> AnalysisReport:
    """Judge the plan ``selection`` describes; see ``plan.build_plan`` for which migrations."""
    executor, items = plan or build_plan(connection, selection)
    loader = executor.loader
    report = AnalysisReport(assume_production=ctx.assume_production, items=items, loader=loader)
    applied = [key for key in loader.applied_migrations or {} if key in loader.graph.nodes]
    state = (
        ProjectState(real_apps=loader.unmigrated_apps)
        if selection.assume_production
        else loader.project_state(applied, at_end=True)
    )
    memory = SchemaMemory()
    # The live catalog answers for the tables the plan has not changed; judging for
    # production, nothing live is known.
    catalog = PlanCatalog(connection, live=None if selection.assume_production else state)
    #: Whether ``state`` is the analysis's own unrendered copy, which a skip may change.
    owned = False
    for item in items:
        migration = item.migration
        label = f"{migration.app_label}.{migration.name}"
        if item.backwards:
            # collect() replays the migration from the state before it, then reverses it.
            before = loader.project_state((migration.app_label, migration.name), at_end=False)
        else:
            before = state
        skip = item.skip or _builds_new_tables(item, selection, state, ctx)
        if skip:
            report.skipped[label] = skip
            if not item.backwards:
                state, owned = _skip(migration, state if owned else unrendered(state), ctx), True
            continue
        judged = analyse_migration(
            connection, migration, before, ctx, memory, item.backwards, catalog
        )
        if selection.judge_rollback and not item.backwards:
            # The rollback replays the migration from the same state, then reverses it; its
            # findings are capped at warning, so a risky rollback is reported, never refused.
            judged.rollback = analyse_migration(
                connection, migration, before, ctx, SchemaMemory(), True, catalog
            )
            ctx.backwards = False
        report.migrations.append(judged)
        if not item.backwards:
            state, owned = judged.state_after, False
    return report


def _builds_new_tables(
    item: PlanItem, selection: Selection, state: ProjectState, ctx: AnalysisContext
) -> str:
    """Say why a migration is judged from its operations alone, or return ''."""
    if selection.judge_new_tables or selection.assume_production or item.backwards:
        return ""
    if not only_new_tables(item.migration, state, ctx.created):
        return ""
    return "builds only tables this plan creates: nothing in it can be refused"


def _skip(migration: Migration, state: ProjectState, ctx: AnalysisContext) -> ProjectState:
    """Move ``state`` (changed in place) past a migration not judged; live, the tables it
    creates are new."""
    before = set() if ctx.assume_production else table_names(state)
    migration.mutate_state(state, preserve=False)
    if not ctx.assume_production:
        ctx.created.update(table_names(state) - before)
    return state


def analyse_migration(
    connection: BaseDatabaseWrapper,
    migration: Migration,
    state: ProjectState,
    ctx: AnalysisContext,
    memory: SchemaMemory,
    backwards: bool = False,
    catalog: PlanCatalog | None = None,
) -> MigrationReport:
    """Judge one migration, starting from the project ``state`` before it runs."""
    path = migration_path(migration)
    report = MigrationReport(
        migration.app_label, migration.name, str(path or ""), migration.atomic, backwards
    )
    report.migration = migration
    allow = migration_allowances(migration)
    ctx.backwards = backwards
    memory.added_not_valid = set()
    collected, report.state_after = collect(
        connection, migration, state, backwards=backwards, catalog=catalog
    )
    facts_by_op: list[list[Fact]] = []
    changes: list[tuple[bool, set[str]]] = []
    for item in collected:
        assert item.from_state is not None
        _remember(memory, ctx, item.from_state, connection)
        found = [
            found for sql in item.sql for found in _statement(sql, memory, ctx, migration.atomic)
        ]
        facts = _known_to_code(
            [fact for f in found for fact in f.facts], item.operation, item.from_state
        )
        facts += operation_facts(item.operation, backwards)
        facts += _unseen(item, migration.app_label, connection, backwards)
        facts += [fact for f in found if (fact := _hot(ctx, f)) is not None]
        facts_by_op.append(facts)
        changes.append(_changes(item, found, ctx))
        report.operations.append(_operation_report(item, found, ctx, path, facts))
    _data_with_schema(migration, changes, facts_by_op)
    for op_report, facts in zip(report.operations, facts_by_op, strict=True):
        op_report.findings = _findings(facts, ctx, allow)
    return report


def _remember(
    memory: SchemaMemory, ctx: AnalysisContext, state: ProjectState, connection: Any
) -> None:
    """Point the memory at the state before the operation: column types, proven NOT NULLs."""
    memory.resolve = column_resolver(state, connection)
    memory.references = reference_resolver(state)
    ctx.index_tables.update(index_tables(state))

    def proves(table: str, column: str) -> bool:
        return column in not_null_by_checks(state, table) | ctx.proven_not_null(table)

    memory.proves = proves


def _unseen(
    item: CollectedOperation, app_label: str, connection: Any, backwards: bool
) -> list[Fact]:
    """An operation whose SQL could not be collected: say so, and judge the operation."""
    if not item.error:
        return []
    assert item.from_state is not None
    model = model_state_of(item.operation, app_label, item.from_state)
    table = table_of(model) if model is not None else ""
    return [
        Fact("sql_not_collected", table, item.error),
        *facts_alone(item.operation, app_label, item.from_state, connection, backwards),
    ]


def _statement(
    sql: str, memory: SchemaMemory, ctx: AnalysisContext, atomic: bool
) -> list[StatementFacts]:
    """Read one collected SQL string; judge its facts before the tables it creates count."""
    found = statement_facts(sql, memory, atomic)
    for statement in found:
        for fact in statement.facts:
            if fact.kind == "create_index":
                ctx.index_tables[fact.detail] = fact.table
        for lock in statement.info.locks:
            ctx.table_of(lock.name, lock.via_index)  # learn the tables of indexes it names
    for statement in found:
        statement.facts = [Fact(f.kind, ctx.table_of(f.table), f.detail) for f in statement.facts]
    pending_creates = {t for s in found for t in s.info.creates}
    ctx.created.update(pending_creates)
    return found


def _hot(ctx: AnalysisContext, found: StatementFacts) -> Fact | None:
    for lock in found.info.locks:
        table = ctx.table_of(lock.name, lock.via_index)
        if lock.mode.blocks_writes and ctx.is_hot(table):
            return Fact("hot_table_lock", table, lock.mode.pg_name)
    return None


#: Facts about dropping something that running code may still use.
_DROPS = {"drop_column", "drop_table"}


def _known_to_code(facts: list[Fact], operation: Operation, state: ProjectState) -> list[Fact]:
    """Drop the facts about columns and tables that Django's state already forgot.

    A column or table the state no longer has was removed from the code by an earlier
    migration (``RemoveFieldFromState``, ``DeleteModelFromState``): dropping it later, as
    ``RemoveFieldFromDatabase`` or ``DeleteModelFromDatabase`` do, breaks no deployed code.
    Hand-written SQL is judged as written: its tables need not be Django's.
    """
    if isinstance(operation, RunPython | RunSQL):
        return facts
    return [
        fact
        for fact in facts
        if fact.kind not in _DROPS or knows(state, fact.table, fact.detail or None)
    ]


def _changes(
    item: CollectedOperation, found: list[StatementFacts], ctx: AnalysisContext
) -> tuple[bool, set[str]]:
    """Return whether the operation changes data, and which existing tables it write-locks."""
    data = isinstance(item.operation, RunPython | RunSQL) and (
        item.python or any(f.data_change for f in found)
    )
    locked = {
        ctx.table_of(lock.name, lock.via_index)
        for f in found
        if f.info.is_ddl and not f.data_change
        for lock in f.info.locks
        if lock.mode.blocks_writes
    }
    return data, {table for table in locked if table not in ctx.created}


def _data_with_schema(
    migration: Migration, changes: list[tuple[bool, set[str]]], facts: list[list[Fact]]
) -> None:
    """In one transaction, data changes keep the schema changes' locks held until they end."""
    if not migration.atomic:
        return
    locked = sorted(set().union(*(tables for _, tables in changes)) if changes else set())
    if not locked:
        return
    for index, (data, _) in enumerate(changes):
        if data:
            facts[index].append(Fact("data_with_schema", locked[0], ", ".join(locked)))


def _findings(facts: list[Fact], ctx: AnalysisContext, allow: dict[str, str]) -> list[Finding]:
    findings: dict[tuple[str, str], Finding] = {}
    for fact in facts:
        rule = by_fact(fact.kind)
        severity, note = judge(rule, fact.table, ctx)
        if severity is None or (rule.id, fact.table) in findings:
            continue
        message = f"{rule.title} ({where})" if (where := _where(fact)) else rule.title
        findings[(rule.id, fact.table)] = Finding(
            rule.id, severity, fact.table, message, allow.get(rule.id, ""), note
        )
    return list(findings.values())


def _where(fact: Fact) -> str:
    if fact.kind == "sql_not_collected":
        return fact.detail
    return f"{fact.table}.{fact.detail}" if fact.table and fact.detail else fact.table


def _operation_report(
    item: CollectedOperation,
    found: list[StatementFacts],
    ctx: AnalysisContext,
    path: Any,
    facts: list[Fact],
) -> OperationReport:
    statements = [
        StatementReport(
            sql=f.info.sql.strip(),
            locks=_locks(f, ctx),
            rewrites=sorted(f.rewrites),
            scans=sorted(f.scans - f.rewrites),
            creates=list(f.info.creates),
            ddl=f.info.is_ddl,
        )
        for f in found
    ]
    tables = {t for s in statements for t in (*s.locks, *s.creates)}
    stats = {t: s for t in sorted(tables) if (s := _stats(ctx, t)) is not None}
    return OperationReport(
        index=item.index,
        description=item.operation.describe(),
        line=line_of(path, item.index),
        statements=statements,
        stats=stats,
        estimate_s=estimate_seconds(statements, lambda table: _stats(ctx, table)),
        kind=type(item.operation).__name__,
        reversible=bool(item.operation.reversible),
        python=item.python,
        writes_rows=item.python or getattr(item.operation, "writes_rows_outside_sql", False),
        sql_error=item.error,
        facts=facts,
    )


def _locks(found: StatementFacts, ctx: AnalysisContext) -> dict[str, LockMode]:
    locks: dict[str, LockMode] = dict(found.more_locks)
    for lock in found.info.locks:
        table = ctx.table_of(lock.name, lock.via_index)
        locks[table] = max(locks.get(table, lock.mode), lock.mode)
    return locks


def _stats(ctx: AnalysisContext, table: str) -> TableStats | None:
    if table in ctx.created:
        return TableStats(table, exists=False, rows=0, size_bytes=0)
    return ctx.stats(table)
