"""``--rollback [RUN_ID]``: unapply exactly what one run applied, as a guarded run of its own.

The rollback is refused before anything is touched when the run cannot be fully reversed
(``reversal`` says why), and checked again under the run lock, since another run may have
changed the graph while this one waited. It runs under the same guard as any run (lock
and statement timeouts, retries, pre-flight, history) and is recorded as a run linked to the
one it undoes. It is never gated by the analysis or by approvals: going back must not be
harder than going forward.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from safemigrate.exceptions import ConfigurationError, RollbackRefused
from safemigrate.guard.executor import GuardedExecutor
from safemigrate.guard.run import GuardedRun
from safemigrate.models import Run
from safemigrate.postgres.tables import format_bytes
from safemigrate.recovery import LATEST
from safemigrate.recovery.reversal import (
    Key,
    Reversal,
    choose_run,
    label,
    plan_reversal,
    usable_backup,
)
from safemigrate.recovery.tables import touched_tables


class RollbackExecutor(GuardedExecutor):
    """The guarded executor, unapplying what the run faked as fakes again."""

    def __init__(self, *args: Any, faked: set[Key], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.faked = faked

    def unapply_migration(
        self, state: ProjectState, migration: Migration, fake: bool = False
    ) -> ProjectState:
        fake = fake or (migration.app_label, migration.name) in self.faked
        return super().unapply_migration(state, migration, fake)


@dataclass
class Rollback:
    """A rollback that was checked and may start."""

    connection: BaseDatabaseWrapper
    reversal: Reversal
    loader: MigrationLoader
    fake: bool = False

    @property
    def target(self) -> Run:
        return self.reversal.target

    def tables(self) -> list[str]:
        """The tables unapplying touches: what a backup before the rollback holds."""
        if self.reversal.reports is None:
            raise ValueError("what unapplying runs could not be read")
        return touched_tables(self.reversal.reports)

    def nothing_to_do(self) -> str:
        """Say so when none of the run's migrations is applied any more; else ``""``."""
        if self.reversal.keys:
            return ""
        return f"Nothing to roll back: no migration run {self.target.pk} applied is applied now."

    def execute(self, run: GuardedRun, progress: Callable[..., Any] | None) -> None:
        """Unapply the migrations under the run lock, after checking nothing changed."""
        again, _ = plan_reversal(self.connection, self.target)
        if again.problems:
            raise RollbackRefused(refusal(again))
        if again.keys != self.reversal.keys:
            raise RollbackRefused(
                f"Run {self.target.pk}'s migrations changed while this rollback waited for "
                "the run lock (another run applied or unapplied some); nothing was changed. "
                "Run the rollback again to see what it would do now."
            )
        run.reporter.notice(_header(again))
        faked = set(again.keys) if self.fake else again.faked
        executor = RollbackExecutor(self.connection, progress, run=run, faked=faked)
        plan = [(executor.loader.graph.nodes[key], True) for key in again.keys]
        executor.migrate([], plan=plan)


def prepare_rollback(connection: BaseDatabaseWrapper, options: Mapping[str, Any]) -> Rollback:
    """Return the rollback ``--rollback`` asks for, or refuse it with the reasons."""
    if options.get("app_label") or options.get("migration_name"):
        raise ConfigurationError(
            "--rollback undoes one run and takes no app_label or migration_name; to go back "
            "to a migration, run manage.py safemigrate APP_LABEL MIGRATION."
        )
    chosen = options.get("rollback")
    target = choose_run(connection.alias, None if chosen in (None, LATEST) else str(chosen))
    reversal, loader = plan_reversal(connection, target)
    if reversal.problems:
        raise RollbackRefused(refusal(reversal))
    return Rollback(connection, reversal, loader, fake=bool(options.get("fake")))


def refusal(reversal: Reversal) -> str:
    """Explain why the run cannot be fully reversed, and what could restore its data."""
    lines = [
        f"safemigrate refuses to roll back run {reversal.target.pk}: it cannot be fully "
        "reversed, and nothing was changed.",
        *(f"  - {problem}" for problem in reversal.problems),
    ]
    backup = usable_backup(reversal.target)
    if backup is None:
        lines.append(f"No backup was taken before run {reversal.target.pk}.")
    else:
        here = "" if Path(backup.path).is_file() else " (not on this machine)"
        lines += [
            f"The backup taken before run {reversal.target.pk} holds its tables as they were: "
            f"{backup.path}{here} ({format_bytes(backup.size_bytes)}). Restore it with:",
            f"  {backup.restore_command}",
        ]
    return "\n".join(lines)


def _header(reversal: Reversal) -> str:
    target = reversal.target
    lines = [
        f"Rolling back run {target.pk} ({target.started_at:%Y-%m-%d %H:%M} by "
        f"{target.os_user or '?'}): unapplying {len(reversal.keys)} migration(s)."
    ]
    if reversal.gone:
        gone = ", ".join(label(key) for key in reversal.gone)
        lines.append(f"Already unapplied, left as they are: {gone}.")
    lines += reversal.warnings
    if reversal.kept:
        lines.append(
            f"safemigrate's own {len(reversal.kept)} migration(s) stay applied: they hold "
            "the history this rollback is recorded in."
        )
    return "\n".join(lines)
