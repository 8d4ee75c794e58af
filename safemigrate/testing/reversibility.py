"""Check every migration of a project: applied, unapplied and applied again, one at a time.

Walking an app's migrations down to zero, one step at a time, then up again, one at a time,
applies and unapplies each of them with its neighbours in place, as a deploy and its
rollback would. A step that fails names the migration that broke and why: no backwards step
(``IrreversibleError``), a backwards step that fails, or one that leaves something behind
that the next apply trips over. Last, ``makemigrations --check`` must find nothing to add.

Some migrations are meant to be irreversible (a data change that keeps nothing to undo). A
project acknowledges each with the reason it cannot be undone; the walk down then rebuilds
the database below it (``rebuild``) instead of unapplying it, so the migrations before and
after it still each go down and up. One that is not acknowledged fails the check, naming
it, before anything is unapplied.
"""

from __future__ import annotations

import site
import sysconfig
from collections.abc import Collection, Mapping, Sequence
from importlib.util import find_spec
from io import StringIO
from pathlib import Path
from typing import Any, Protocol

from django.apps import apps
from django.core.management import call_command
from django.db.migrations import Migration
from django.db.migrations.exceptions import IrreversibleError
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.loader import MigrationLoader

from safemigrate.testing.rebuild import (
    Key,
    Progress,
    RebuildRefused,
    Target,
    cannot_unapply,
    irreversible_operation,
    key_of,
)


class Migrates(Protocol):
    """What the check needs of the migrator (``migrator.Migrator``)."""

    def executor(self, progress: Progress | None = None) -> MigrationExecutor: ...

    def migrate(self, targets: list[Target], progress: Progress | None = None) -> None: ...

    def rebuild(self, targets: list[Target], progress: Progress | None = None) -> None: ...


def check_migrations(
    migrator: Migrates, app_labels: Sequence[str], irreversible: Mapping[str, str]
) -> None:
    """Raise ``AssertionError`` naming the first migration that does not round-trip, or the
    model changes ``makemigrations`` would write; ``irreversible`` is read as
    ``acknowledged_irreversible`` says."""
    acknowledged = acknowledged_irreversible(migrator.executor().loader.graph, irreversible)
    labels = list(app_labels) or project_apps()
    for label in labels:
        round_trip(migrator, label, acknowledged)
    no_missing_migrations(labels)


def acknowledged_irreversible(graph: MigrationGraph, irreversible: Mapping[str, str]) -> set[Key]:
    """The migrations ``irreversible`` names (``"app_label.migration_name"``), each of which
    must exist, have an operation with no backwards step, and come with a reason."""
    return {_acknowledged(graph, label, reason) for label, reason in irreversible.items()}


def _acknowledged(graph: MigrationGraph, label: str, reason: str) -> Key:
    app_label, _, name = label.partition(".")
    if (app_label, name) not in graph.nodes:
        known = sorted(f"{a}.{n}" for a, n in graph.nodes if a == app_label and n.startswith(name))
        hint = f" (did you mean {' or '.join(known)}?)" if name and known else ""
        raise LookupError(
            f"irreversible names {label!r}, which is not a migration{hint}. Fix: name each "
            "migration app_label.migration_name, as showmigrations lists it."
        )
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(
            f"irreversible gives no reason for {label}. Fix: say what undoing it would "
            f'need that is gone: irreversible={{"{label}": "what is lost"}}.'
        )
    migration = graph.nodes[app_label, name]
    if migration is None or irreversible_operation(migration) is None:
        raise ValueError(
            f"{label} is listed as irreversible, but every operation of it has a backwards "
            "step. Fix: take it out of irreversible."
        )
    return (app_label, name)


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


def round_trip(migrator: Migrates, label: str, acknowledged: Collection[Key] = ()) -> None:
    """Apply everything, unapply ``label``'s migrations one by one, then apply them again;
    below an ``acknowledged`` irreversible migration, rebuild instead of unapplying it."""
    migrator.migrate(migrator.executor().loader.graph.leaf_nodes())
    graph = migrator.executor().loader.graph
    steps = app_plan(graph, label)
    for key in reversed(steps):
        _step(migrator, before(graph, key), key, "unapplying it", acknowledged)
    for key in steps:
        after = "rebuilding below it" if key in acknowledged else "unapplying it"
        _step(migrator, key, key, f"applying it again after {after}", acknowledged)


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


def _step(
    migrator: Migrates, target: Target, key: Key, doing: str, acknowledged: Collection[Key]
) -> None:
    blocked = cannot_unapply(migrator.executor().migration_plan([target]))
    unlisted = [m for m in blocked if key_of(m) not in acknowledged]
    if unlisted:
        raise AssertionError(_failure(str(unlisted[0]), doing, _irreversible(unlisted[0])))
    if blocked:
        doing = f"applying it while rebuilding below {', '.join(map(str, blocked))}"
    running: list[str] = []

    def progress(action: str, migration: Any = None, fake: bool = False) -> None:
        if migration is not None:
            running.append(f"{migration.app_label}.{migration.name}")

    try:
        (migrator.rebuild if blocked else migrator.migrate)([target], progress)
    except RebuildRefused:
        raise
    except Exception as error:
        label = running[-1] if running else f"{key[0]}.{key[1]}"
        raise AssertionError(_failure(label, doing, error)) from error


def _irreversible(migration: Migration) -> IrreversibleError:
    """The error Django's ``Migration.unapply`` raises for ``migration``."""
    return IrreversibleError(
        f"Operation {irreversible_operation(migration)} in {migration} is not reversible"
    )


def _failure(label: str, doing: str, error: Exception) -> str:
    if isinstance(error, IrreversibleError):
        return (
            f"{label} is not reversible: {error}. Fix: give it a backwards step "
            "(RunPython's reverse_code, RunSQL's reverse_sql; RunPython.noop or "
            "RunSQL.noop when there is nothing to undo), or, if it must stay irreversible, "
            f'acknowledge it: check_migrations(irreversible={{"{label}": "why"}}).'
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
