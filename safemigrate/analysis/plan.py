"""The plan ``migrate`` would run, worked out without running it, and which of it to judge.

This is safemigrate's one plan: the analysis, ``--lint``, the runbook and the approval gate
all read it. Live, it is what ``migrate`` would do on this database now, its targets
resolved as ``migrate`` resolves them (an app label, a migration prefix or ``zero``, else
every leaf) through Django's public loader API. With ``assume_production`` (CI), it is the
whole history from a clean start, and only the migrations asked for are judged (named,
added since a git ref, or all but the baseline); the others are taken as already applied
in production.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.exceptions import AmbiguityError
from django.db.migrations.executor import MigrationExecutor

from safemigrate.exceptions import ConfigurationError

Key = tuple[str, str]


@dataclass(frozen=True)
class Selection:
    """What the user asked to judge."""

    app_label: str | None = None
    migration_name: str | None = None
    assume_production: bool = False
    since: str | None = None
    include_third_party: bool = False
    baseline: tuple[tuple[str, str], ...] = ()
    #: Also judge how each forward migration would be rolled back (``--lint`` does).
    judge_rollback: bool = False
    #: Judge the migrations of a backwards plan. ``--lint`` does; the check before a run
    #: does not: a rollback is never refused (its findings are capped at warning), and each
    #: one replays the project's history up to it, which a long rollback paid for nothing.
    judge_backwards: bool = True
    #: Collect the SQL of a migration that only builds tables the plan creates. ``--lint``
    #: does; the check before a run judges it from its operations (``newtables``).
    judge_new_tables: bool = True


@dataclass(frozen=True)
class PlanItem:
    """One migration of the plan; ``skip`` says why it is not judged ('' when it is)."""

    migration: Migration
    backwards: bool
    skip: str = ""

    @property
    def key(self) -> Key:
        return (self.migration.app_label, self.migration.name)

    @property
    def label(self) -> str:
        return f"{self.migration.app_label}.{self.migration.name}"


def build_plan(
    connection: BaseDatabaseWrapper, selection: Selection
) -> tuple[MigrationExecutor, list[PlanItem]]:
    """Return the executor (its loader has the graph) and the plan with what to skip."""
    executor = MigrationExecutor(connection)
    targets = _targets(executor, selection)
    plan = executor.migration_plan(targets, clean_start=selection.assume_production)
    old = _baseline_nodes(executor, selection.baseline)
    added = _added_files(selection.since) if selection.since else None
    named = targets[0] if selection.assume_production and selection.migration_name else None
    items = []
    for migration, backwards in plan:
        key = (migration.app_label, migration.name)
        reason = _skip_reason(key, migration, backwards, selection, old, added, named)
        items.append(PlanItem(migration, backwards, reason))
    return executor, items


def _targets(executor: MigrationExecutor, selection: Selection) -> list[Key]:
    graph = executor.loader.graph
    if selection.app_label is None:
        return list(graph.leaf_nodes())
    if selection.app_label not in executor.loader.migrated_apps:
        raise ConfigurationError(
            f"App {selection.app_label!r} does not have migrations; name an app with a "
            "migrations package (manage.py showmigrations lists them)."
        )
    if selection.migration_name is None:
        return [key for key in graph.leaf_nodes() if key[0] == selection.app_label]
    if selection.migration_name == "zero":
        return [(selection.app_label, None)]  # type: ignore[list-item]
    name, app = selection.migration_name, selection.app_label
    try:
        migration = executor.loader.get_migration_by_prefix(app, name)
    except AmbiguityError as error:
        raise ConfigurationError(
            f"More than one migration matches {name!r} in app {app!r}; give more of its "
            "name (manage.py showmigrations lists them)."
        ) from error
    except KeyError as error:
        raise ConfigurationError(
            f"Cannot find a migration matching {name!r} from app {app!r}; "
            "manage.py showmigrations lists them."
        ) from error
    return [(migration.app_label, migration.name)]


def _skip_reason(
    key: Key,
    migration: Migration,
    backwards: bool,
    selection: Selection,
    old: set[Key],
    added: set[Path] | None,
    named: Key | None,
) -> str:
    if backwards and not selection.judge_backwards:
        return "rolled back: a rollback is never refused"
    if named is not None and key != named:
        return "not named"
    if key in old:
        return "at or before the baseline (SAFEMIGRATE['BASELINE'])"
    if added is not None and migration_path(migration) not in added:
        return f"not added since {selection.since}"
    explicit = selection.app_label == key[0]
    if not (explicit or selection.include_third_party) and is_third_party(key[0]):
        return "third-party app (pass --include-third-party or name the app)"
    return ""


def _baseline_nodes(executor: MigrationExecutor, baseline: tuple[tuple[str, str], ...]) -> set[Key]:
    graph = executor.loader.graph
    old: set[Key] = set()
    for app_label, name in baseline:
        if (app_label, name) not in graph.nodes:
            raise ConfigurationError(
                f"SAFEMIGRATE['BASELINE'][{app_label!r}] is {name!r}, which is not a "
                f"migration of {app_label!r}; give the full name of an existing migration."
            )
        old.update(key for key in graph.forwards_plan((app_label, name)) if key[0] == app_label)
    return old


def is_third_party(app_label: str) -> bool:
    """Whether an app is installed from a package rather than part of the project."""
    path = Path(apps.get_app_config(app_label).path).resolve()
    if "site-packages" in path.parts or "dist-packages" in path.parts:
        return True
    base = Path(getattr(settings, "BASE_DIR", Path.cwd())).resolve()
    return not path.is_relative_to(base)


def migration_path(migration: Migration) -> Path | None:
    """Return the file a migration was loaded from."""
    module = sys.modules.get(type(migration).__module__)
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if file else None


def _added_files(ref: str) -> set[Path]:
    """Return the files the current branch adds relative to ``ref``, committed or not."""
    top = _git("rev-parse", "--show-toplevel").strip()
    base = _git("merge-base", ref, "HEAD").strip()
    names = _git("diff", "--name-only", "--diff-filter=A", base).splitlines()
    names += _git("ls-files", "--others", "--exclude-standard", "--full-name").splitlines()
    return {(Path(top) / name).resolve() for name in names if name}


def _git(*args: str) -> str:
    try:
        result = subprocess.run(
            ["git", *args], capture_output=True, text=True, check=False, timeout=30
        )
    except OSError as error:
        raise ConfigurationError(f"--since needs git, which could not run: {error}") from error
    if result.returncode != 0:
        raise ConfigurationError(
            f"git {' '.join(args)} failed: {result.stderr.strip()}. Fix: give --since a ref "
            "that exists here (fetch it first in CI, e.g. git fetch origin main)."
        )
    return result.stdout
