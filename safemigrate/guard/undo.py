"""The commands that put back what a failed run changed, from the run's own log.

A run that fails part-way keeps the migrations it applied before the failure and, when the
failed migration was not atomic, the statements of it that committed. The failure message
names the commands that undo them, so nobody has to work them out in the middle of an
incident.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.migrations.graph import MigrationGraph
from django.db.migrations.loader import MigrationLoader

from safemigrate.guard.records import MigrationLog
from safemigrate.models import Direction, Outcome, Status


def committed_statements(log: MigrationLog) -> int:
    """How many of the migration's statements completed (and, if it is not atomic, stay)."""
    return sum(statement.outcome == Outcome.OK for statement in log.statements)


def half_applied(log: MigrationLog) -> bool:
    """Whether the migration failed part-way with statements committed (it is not atomic)."""
    return not log.record.atomic and committed_statements(log) > 0


def rollback_commands(logs: Sequence[MigrationLog], failed: MigrationLog) -> list[str]:
    """Return the commands that take each app back to where it was before the run.

    A failed non-atomic migration that committed statements is first marked applied
    (``--fake``), so that unapplying it runs its operations backwards.
    """
    partial = half_applied(failed)
    first: dict[str, str] = {}
    for log in logs:
        record = log.record
        kept = record.status == Status.SUCCEEDED and not record.fake
        if record.direction == Direction.FORWARDS and (kept or (log is failed and partial)):
            first.setdefault(record.app_label, record.name)
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    back = [
        f"python manage.py safemigrate {app} {_before(graph, app, name)}"
        for app, name in first.items()
    ]
    if not partial:
        return back
    return [
        f"python manage.py safemigrate {failed.record.app_label} {failed.record.name} --fake",
        *back,
    ]


def _before(graph: MigrationGraph, app_label: str, name: str) -> str:
    """Name the migration of the same app that ``name`` follows, or ``zero``."""
    node = graph.node_map.get((app_label, name))
    parents = sorted(p.key[1] for p in node.parents if p.key[0] == app_label) if node else []
    return parents[0] if parents else "zero"
