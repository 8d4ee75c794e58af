"""Check every migration of a project: applied, unapplied and applied again, one at a time.

Walking an app's migrations down to zero, one step at a time, then up again, one at a time,
applies and unapplies each of them with its neighbours in place, as a deploy and its
rollback would. A step that fails names the migration that broke and why: no backwards step
(``IrreversibleError``), a backwards step that fails, or one that leaves something behind
that the next apply trips over. Last, ``makemigrations --check`` must find nothing to add.
"""

from __future__ import annotations

import site
import sysconfig
from collections.abc import Callable, Sequence
from importlib.util import find_spec
from io import StringIO
from pathlib import Path
from typing import Any, Protocol

from django.apps import apps
from django.core.management import call_command
from django.db.migrations.exceptions import IrreversibleError
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.loader import MigrationLoader

Key = tuple[str, str]
#: A migration, or ``(app_label, None)``: the state before the app's first migration.
Target = tuple[str, str | None]
#: Called with the action (``apply_start``...) and the migration, as Django's executor does.
Progress = Callable[..., None]


class Migrates(Protocol):
    """What the check needs of the migrator (``migrator.Migrator``)."""

    def executor(self, progress: Progress | None = None) -> MigrationExecutor: ...

    def migrate(self, targets: list[Target], progress: Progress | None = None) -> None: ...


def check_migrations(migrator: Migrates, app_labels: Sequence[str]) -> None:
    """Raise ``AssertionError`` naming the first migration that does not round-trip, or the
    model changes ``makemigrations`` would write."""
    labels = list(app_labels) or project_apps()
    for label in labels:
        round_trip(migrator, label)
    no_missing_migrations(labels)


def project_apps() -> list[str]:
    """The installed apps with migrations that are not installed packages (site-packages)."""
    roots = [Path(path).resolve() for path in _package_dirs()]
    labels = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if any(path.is_relative_to(root) for root in roots):
            continue
        module, _ = MigrationLoader.migrations_module(config.label)
        try:
            if module and find_spec(module):
                labels.append(config.label)
        except ImportError:
            continue
    return labels


def _package_dirs() -> list[str]:
    paths = sysconfig.get_paths()
    return [*site.getsitepackages(), site.getusersitepackages(), paths["purelib"], paths["platlib"]]


def round_trip(migrator: Migrates, label: str) -> None:
    """Apply everything, unapply ``label``'s migrations one by one, then apply them again."""
    migrator.migrate(migrator.executor().loader.graph.leaf_nodes())
    graph = migrator.executor().loader.graph
    steps = app_plan(graph, label)
    for key in reversed(steps):
        _step(migrator, before(graph, key), key, "unapplying it")
    for key in steps:
        _step(migrator, key, key, "applying it again after unapplying it")


def app_plan(graph: MigrationGraph, label: str) -> list[Key]:
    """Return ``label``'s migrations in the order ``migrate`` applies them."""
    leaves = graph.leaf_nodes(label)
    if len(leaves) > 1:
        raise AssertionError(
            f"{label} has conflicting migrations {sorted(name for _, name in leaves)}: "
            "run manage.py makemigrations --merge."
        )
    plan = graph.forwards_plan(leaves[0]) if leaves else []
    return [key for key in plan if key[0] == label]


def before(graph: MigrationGraph, key: Key) -> Target:
    """The target that unapplies ``key`` alone: the migration of its app it follows."""
    parents = sorted(p.key for p in graph.node_map[key].parents if p.key[0] == key[0])
    return parents[0] if parents else (key[0], None)


def _step(migrator: Migrates, target: Target, key: Key, doing: str) -> None:
    running: list[str] = []

    def progress(action: str, migration: Any = None, fake: bool = False) -> None:
        if migration is not None:
            running.append(f"{migration.app_label}.{migration.name}")

    try:
        migrator.migrate([target], progress)
    except Exception as error:
        label = running[-1] if running else f"{key[0]}.{key[1]}"
        raise AssertionError(_failure(label, doing, error)) from error


def _failure(label: str, doing: str, error: Exception) -> str:
    if isinstance(error, IrreversibleError):
        return (
            f"{label} is not reversible: {error}. Fix: give it a backwards step "
            "(RunPython's reverse_code, RunSQL's reverse_sql; RunPython.noop or "
            "RunSQL.noop when there is nothing to undo)."
        )
    return f"{label} failed when {doing}: {type(error).__name__}: {error}"


def no_missing_migrations(labels: Sequence[str]) -> None:
    """Assert ``makemigrations --check`` finds no model change without its migration."""
    out = StringIO()
    try:
        call_command("makemigrations", *labels, check=True, dry_run=True, stdout=out, stderr=out)
    except SystemExit as stopped:
        if stopped.code:
            raise AssertionError(
                f"makemigrations --check finds model changes without a migration:\n"
                f"{out.getvalue()}Fix: run manage.py makemigrations and commit the migration."
            ) from None
