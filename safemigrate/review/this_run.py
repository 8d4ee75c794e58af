"""What the checks before a run judge: the part of the plan this run applies.

``--phase pre`` applies the plan up to each app's first post-deploy migration
(``deploy.split``). What it holds back is judged, gated and windowed when ``--phase post``
applies it: an unsafe contract migration must not refuse the pre-deploy half of a deploy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader

from safemigrate.analysis.lint import analyse_before_run
from safemigrate.analysis.plan import PlanItem
from safemigrate.analysis.report import AnalysisReport
from safemigrate.deploy.phases import migration_phase
from safemigrate.deploy.split import split_plan


def analyse_this_run(connection: BaseDatabaseWrapper, options: Mapping[str, Any]) -> AnalysisReport:
    """Judge the plan, and keep what this run applies of it."""
    report = analyse_before_run(connection, options)
    items = items_this_run(report.items, report.loader, options)
    if len(items) == len(report.items):
        return report
    kept = {item.key for item in items}
    return replace(
        report,
        items=items,
        migrations=[m for m in report.migrations if (m.app_label, m.name) in kept],
    )


def items_this_run(
    items: Sequence[PlanItem], loader: MigrationLoader | None, options: Mapping[str, Any]
) -> list[PlanItem]:
    """Return the items of ``migrate``'s plan that this run applies (a rollback: all of them)."""
    if options.get("phase") != "pre" or loader is None or any(i.backwards for i in items):
        return list(items)
    plan = [(item.migration, item.backwards) for item in items]
    pre = split_plan(plan, loader.graph, migration_phase).pre
    applied = {(migration.app_label, migration.name) for migration, _ in pre}
    return [item for item in items if item.key in applied]
