"""What undoing a run means: which migrations to unapply, in which order, and what forbids it.

A run applied its migrations in an order the graph allows; unapplying those still applied in
the reverse order is allowed too, provided nothing applied later still depends on them.
Everything that would stop the rollback part-way is found before it starts:

- an operation that cannot be reversed (``RunPython`` without reverse code, ...);
- a migration no longer on disk, or replaced by a squashed one, which Django cannot unapply;
- a migration applied later (by another run, or by hand) that depends on one of them;
- a non-atomic migration the run left half-applied, which ``--doctor`` must settle first;
- a step that needs values back in a column the rollback puts back empty (``values``).

safemigrate's own migrations stay applied: unapplying them would drop the history the
rollback is being recorded in (``migrate safemigrate zero`` removes them, if that is meant).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import QuerySet

from safemigrate.analysis.report import MigrationReport
from safemigrate.exceptions import ConfigurationError
from safemigrate.models import Backup, Direction, MigrationRun, Run, Status
from safemigrate.recovery.tables import rollback_reports
from safemigrate.recovery.values import lost_values

Key = tuple[str, str]
#: The app whose migrations a rollback leaves applied.
OWN_APP = "safemigrate"


@dataclass
class Reversal:
    """The rollback of one run, as far as it can be known before touching anything."""

    target: Run
    #: The migrations to unapply, in order (the reverse of the order the run applied them).
    keys: list[Key] = field(default_factory=list)
    #: Those the run only faked: unapplying them records it, and runs nothing.
    faked: set[Key] = field(default_factory=set)
    #: The run's migrations that are no longer applied (a rollback killed part-way, say).
    gone: list[Key] = field(default_factory=list)
    #: safemigrate's own migrations, left applied: they hold the history the rollback is
    #: recorded in.
    kept: list[Key] = field(default_factory=list)
    #: Why the run cannot be fully reversed; empty when it can.
    problems: list[str] = field(default_factory=list)
    #: How unapplying each migration (but the faked) is judged; ``None`` if it could not be.
    reports: list[MigrationReport] | None = None
    #: What the operator should know, which does not stop the rollback.
    warnings: list[str] = field(default_factory=list)


def label(key: Key) -> str:
    return f"{key[0]}.{key[1]}"


def choose_run(alias: str, run_id: str | None) -> Run:
    """Return the run to undo: ``run_id``, or the latest successful one still applied."""
    try:
        return _by_id(alias, run_id) if run_id else _latest(alias)
    except DatabaseError as error:
        raise ConfigurationError(
            f"safemigrate has no run history on database {alias!r} to roll back from "
            f"({error}); roll back with manage.py safemigrate APP_LABEL MIGRATION instead."
        ) from error


def _by_id(alias: str, run_id: str) -> Run:
    if not run_id.isdigit():
        raise ConfigurationError(f"--rollback takes a run id (a number), not {run_id!r}.")
    run = Run.objects.using(alias).filter(pk=int(run_id)).first()
    if run is None:
        raise ConfigurationError(
            f"There is no run {run_id} in the history; the admin's run list shows them."
        )
    if run.database != alias:
        raise ConfigurationError(
            f"Run {run_id} migrated database {run.database!r}: add --database {run.database}."
        )
    if run.rollback_of_id is not None or not _forwards(run).exists():
        raise ConfigurationError(
            f"Run {run_id} applied no migration, so there is nothing of it to roll back "
            "(a rollback is undone by applying the migrations again: manage.py safemigrate)."
        )
    return run


def _latest(alias: str) -> Run:
    applied = _applied(alias)
    runs = Run.objects.using(alias).filter(
        database=alias,
        status=Status.SUCCEEDED,
        rollback_of__isnull=True,
        pk__in=MigrationRun.objects.filter(direction=Direction.FORWARDS).values("run_id"),
    )
    for run in runs.order_by("-started_at", "-id").iterator():
        if any((m.app_label, m.name) in applied for m in _forwards(run).exclude(app_label=OWN_APP)):
            return run
    raise ConfigurationError(
        "No successful run whose migrations are still applied was found to roll back; name "
        "one with --rollback RUN_ID (the admin's run list shows them)."
    )


def _forwards(run: Run) -> QuerySet[MigrationRun]:
    return run.migrations.filter(direction=Direction.FORWARDS).order_by("started_at", "id")


def _applied(alias: str) -> set[Key]:
    return set(MigrationRecorder(connections[alias]).applied_migrations())


def plan_reversal(connection: BaseDatabaseWrapper, target: Run) -> tuple[Reversal, MigrationLoader]:
    """Work out the rollback of ``target`` on the migrations and history as they are now."""
    loader = MigrationLoader(connection)
    applied = set(loader.applied_migrations or {})
    records = list(_forwards(target))
    done = [r for r in records if r.status == Status.SUCCEEDED]
    reversal = Reversal(target)
    keys = [(r.app_label, r.name) for r in done if r.app_label != OWN_APP]
    reversal.kept = [(r.app_label, r.name) for r in done if r.app_label == OWN_APP]
    reversal.keys = [key for key in reversed(keys) if key in applied]
    reversal.gone = [key for key in keys if key not in applied]
    reversal.faked = {(r.app_label, r.name) for r in done if r.fake}
    reversal.problems = [
        *_missing_or_irreversible(loader, reversal.keys),
        *_dependents(loader, applied, reversal.keys, connection.alias),
        *_half_applied(connection.alias, [r for r in records if r.status != Status.SUCCEEDED]),
    ]
    if not reversal.problems:
        _judge(connection, loader, reversal)
    return reversal, loader


def _judge(connection: BaseDatabaseWrapper, loader: MigrationLoader, reversal: Reversal) -> None:
    """Read what unapplying runs, for the tables it touches and the values it needs back.

    The analysis must never block a rollback: if it cannot read a migration, say so.
    """
    ran = [key for key in reversal.keys if key not in reversal.faked]
    try:
        reversal.reports = rollback_reports(
            connection, loader, [loader.graph.nodes[k] for k in ran]
        )
    except Exception as error:
        reversal.warnings.append(
            f"safemigrate could not read what unapplying runs ({type(error).__name__}: "
            f"{error}), so it could not check that no step needs data the rollback lost."
        )
        return
    reversal.problems += lost_values(connection, reversal.reports)


def _missing_or_irreversible(loader: MigrationLoader, keys: list[Key]) -> list[str]:
    problems = []
    for key in keys:
        migration = loader.graph.nodes.get(key)
        if migration is None:
            problems.append(
                f"{label(key)} is no longer in the migration graph (deleted, renamed or "
                "replaced by a squashed migration): Django cannot unapply it."
            )
            continue
        problems += [
            f"{label(key)} operation #{index} ({operation.describe()}) cannot be reversed."
            for index, operation in enumerate(migration.operations)
            if not operation.reversible
        ]
    return problems


def _dependents(
    loader: MigrationLoader, applied: set[Key], keys: list[Key], alias: str
) -> list[str]:
    """Name the applied migrations outside the rollback that depend on one inside it."""
    inside = set(keys)
    problems = []
    for key in keys:
        if key not in loader.graph.nodes:
            continue
        for later in loader.graph.backwards_plan(key):
            if later in applied and later not in inside:
                inside.add(later)  # name each dependent once
                problems.append(
                    f"{label(later)} depends on {label(key)} and is still applied "
                    f"({_applied_by(alias, later)}): roll that back first."
                )
    return problems


def _applied_by(alias: str, key: Key) -> str:
    record = (
        MigrationRun.objects.using(alias)
        .filter(app_label=key[0], name=key[1], direction=Direction.FORWARDS)
        .filter(status=Status.SUCCEEDED)
        .select_related("run")
        .order_by("-started_at")
        .first()
    )
    if record is None:
        return "applied outside safemigrate"
    return f"applied by run {record.run_id}: {record.run.rollback_command}"


def _half_applied(alias: str, unfinished: list[MigrationRun]) -> list[str]:
    """Name the run's non-atomic migrations that stopped part-way and nothing settled since.

    An atomic migration that failed kept nothing. A later record of the same migration (a
    ``--doctor`` that finished or undid it, a later run) settles it.
    """
    problems = []
    for record in unfinished:
        later = MigrationRun.objects.using(alias).filter(
            app_label=record.app_label, name=record.name, started_at__gt=record.started_at
        )
        if record.atomic or later.exists():
            continue
        problems.append(
            f"{record.app_label}.{record.name} is not atomic and stopped part-way "
            f"({record.status}): the steps before it stopped stay applied, and unapplying "
            "cannot undo part of a migration. Finish or undo it with manage.py safemigrate "
            "--doctor, then roll back again."
        )
    return problems


def usable_backup(target: Run) -> Backup | None:
    """Return the backup taken before ``target`` if it was written whole and is still kept."""
    backup = Backup.objects.using(target._state.db).filter(run=target).first()
    return backup if backup is not None and backup.usable else None
