"""Analyse one corpus case in memory, as ``--lint`` would on a project holding it."""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.state import ProjectState

from safemigrate.analysis.context import AnalysisContext, fixed_stats
from safemigrate.analysis.engine import analyse_migration
from safemigrate.analysis.report import MigrationReport
from safemigrate.analysis.rules import get_rule
from safemigrate.analysis.sqlfacts import SchemaMemory
from safemigrate.postgres.tables import TableStats
from tests.analysis.corpus.base import APP, ORDER, base_migration
from tests.analysis.corpus.cases import Case

ROW_BYTES = 200


def case_migration(case: Case) -> migrations.Migration:
    attributes: dict[str, Any] = {
        "operations": case.operations,
        "atomic": case.atomic,
        "dependencies": [(APP, "0001_base")],
    }
    if case.allow:
        attributes["safemigrate"] = {"allow": case.allow}
    return type("Migration", (migrations.Migration,), attributes)("0002_case", APP)


def context_for(case: Case) -> AnalysisContext:
    """Live statistics when the case gives a row count, else judged as production."""
    sizes = (
        {}
        if case.rows is None
        else {
            ORDER: TableStats(ORDER, exists=True, rows=case.rows, size_bytes=case.rows * ROW_BYTES)
        }
    )
    return AnalysisContext(
        assume_production=case.rows is None,
        hot_tables=frozenset({ORDER}) if case.hot else frozenset(),
        probe=fixed_stats(sizes),
    )


def analyse_case(connection: BaseDatabaseWrapper, case: Case) -> MigrationReport:
    state = base_migration().mutate_state(ProjectState(), preserve=True)
    if case.earlier:
        earlier = type("Migration", (migrations.Migration,), {"operations": case.earlier})
        state = earlier("0002_earlier", APP).mutate_state(state, preserve=True)
    return analyse_migration(
        connection, case_migration(case), state, context_for(case), SchemaMemory()
    )


def found_ids(report: MigrationReport) -> tuple[str, ...]:
    """Rule ids found, sorted, with the severity when the context changed it."""
    labels = []
    for finding in report.findings:
        default = get_rule(finding.rule_id).severity
        suffix = "" if finding.severity == default else f"/{finding.severity.label}"
        labels.append(finding.rule_id + suffix)
    return tuple(sorted(labels))
