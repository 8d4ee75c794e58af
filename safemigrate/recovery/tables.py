"""Which tables a plan touches, as the analysis judged them: what a table backup holds.

The analysis already reads every statement of the plan for the tables it locks, so the
backup asks it rather than reading the SQL a second way. A statement's locks cover what it
changes: the table it alters, drops, rewrites or fills, and the table a new foreign key
points at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.loader import MigrationLoader

from safemigrate.analysis.context import AnalysisContext
from safemigrate.analysis.engine import analyse, analyse_migration
from safemigrate.analysis.plan import Selection
from safemigrate.analysis.report import AnalysisReport, MigrationReport
from safemigrate.analysis.sqlfacts import SchemaMemory


def forward_tables(
    connection: BaseDatabaseWrapper, options: Mapping[str, Any], report: AnalysisReport | None
) -> list[str]:
    """Return the tables the pending plan touches.

    The report judged before the run serves when it judged every migration of the plan;
    otherwise (``--allow-unsafe``, or third-party and baseline migrations it skipped) the
    whole plan is read again, judged with no statistics: only its tables count here.
    """
    if report is None or report.skipped:
        selection = Selection(
            options.get("app_label"), options.get("migration_name"), include_third_party=True
        )
        report = analyse(connection, selection, AnalysisContext())
    return touched_tables(report.migrations)


def rollback_reports(
    connection: BaseDatabaseWrapper, loader: MigrationLoader, migrations: Sequence[Migration]
) -> list[MigrationReport]:
    """Judge unapplying ``migrations`` in order, each from the state before it."""
    return [
        analyse_migration(
            connection,
            migration,
            loader.project_state((migration.app_label, migration.name), at_end=False),
            AnalysisContext(),
            SchemaMemory(),
            backwards=True,
        )
        for migration in migrations
    ]


def touched_tables(migrations: Sequence[MigrationReport]) -> list[str]:
    """Return the tables the judged migrations lock: those they change."""
    return sorted({table for m in migrations for op in m.operations for table in op.tables})
