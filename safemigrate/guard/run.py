"""One ``safemigrate`` run: what its migrations share, from the run lock to the history."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.state import ProjectState

import safemigrate
from safemigrate.conf import conf
from safemigrate.guard.history import History
from safemigrate.guard.migration import MigrationGuard
from safemigrate.guard.output import Reporter
from safemigrate.guard.pooler import check_pooler
from safemigrate.guard.records import MigrationLog, now
from safemigrate.guard.runlock import RunLock
from safemigrate.guard.session import SessionTimeouts
from safemigrate.guard.sidecar import Sidecar
from safemigrate.guard.timeouts import Backoff, PolicyResolver, run_overrides
from safemigrate.guard.undo import committed_statements, half_applied, rollback_commands
from safemigrate.models import Direction, MigrationRun, Run, Status
from safemigrate.postgres.sessions import backend_pid, redact

#: The options stored with a run; never connection settings, which may hold secrets.
RECORDED_OPTIONS = (
    "app_label",
    "migration_name",
    "fake",
    "fake_initial",
    "run_syncdb",
    "lock_timeout",
    "lock_timeout_max",
    "statement_timeout",
    "retries",
    "phase",
    "verbosity",
    "backup",
    "no_backup",
    "backup_scope",
    "rollback",
)
_GIT_REVISION_ENV = ("SAFEMIGRATE_GIT_REVISION", "GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT")

#: The ``safemigrate`` run in progress, if any: backfills report through its reporter and
#: postconditions record their results in its current migration's log.
active_run: ContextVar[GuardedRun | None] = ContextVar("safemigrate_active_run", default=None)


class GuardedRun:
    """Shared state of one run; use it as a context manager around ``migrate``."""

    def __init__(
        self, connection: BaseDatabaseWrapper, options: Mapping[str, Any], reporter: Reporter
    ) -> None:
        # Reading every setting here makes a bad one fail before anything runs.
        self.connection = connection
        self.reporter = reporter
        self.overrides = run_overrides(options)
        self.resolver = PolicyResolver.from_settings()
        self.backoff = Backoff.from_settings()
        self.preflight = conf.preflight and not options.get("no_preflight")
        self.preflight_wait_ms = conf.preflight_wait_ms
        self.terminate_idle_after_ms = conf.terminate_idle_blockers_after_ms
        self.max_statements = conf.history_max_statements
        self.pooler_mode = conf.pooler
        self.run_lock = RunLock(connection, conf.run_lock_wait_ms, self._announce_wait)
        self.sidecar = Sidecar(connection.alias)
        self.created_tables: set[str] = set()
        self.current: MigrationLog | None = None
        self.pid = 0
        self.own_pids: list[int] = []
        self.pooled = False
        self.session = SessionTimeouts(connection)
        self.history = History(
            _new_run(connection.alias, options),
            self.sidecar if conf.history else None,
            connection.alias,
        )

    def __enter__(self) -> GuardedRun:
        try:
            # The side connection opens on its thread meanwhile: one connection's wait less.
            sidecar_pid_asked = self.sidecar.submit(backend_pid)
            # Asked of git there too, before the run's first write: a process of its own.
            self.sidecar.submit(self._note_git_revision)
            self.run_lock.__enter__()
            self.connection.ensure_connection()
            with self.connection.cursor() as cursor:
                self.pid = backend_pid(cursor)
            sidecar_pid = sidecar_pid_asked.result()
            self.own_pids = [self.pid, sidecar_pid, self.run_lock.pid or 0]
            pooler = check_pooler(self.connection, self.pooler_mode)
            self.pooled = self.history.pooled = pooler.pooled
            if pooler.pooled:
                self.reporter.notice(
                    f"Connection pooler detected ({pooler.reason}): timeouts are set with "
                    "SET LOCAL inside each migration's transaction; non-atomic migrations are "
                    "refused."
                )
            self.history.begin()
        except BaseException:
            self.close()
            raise
        return self

    def _note_git_revision(self, _cursor: Any) -> None:
        self.history.run.git_revision = git_revision()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.history.close()
        self.run_lock.__exit__()
        self.sidecar.close()

    def _announce_wait(self, holder: str) -> None:
        self.reporter.notice(f"Waiting for another safemigrate run to finish ({holder})...")

    def migrate_one(
        self,
        migration: Migration,
        direction: Direction,
        fake: bool,
        body: Callable[[], ProjectState],
    ) -> ProjectState:
        """Apply or unapply one migration under the guard, recording it in the history."""
        log = MigrationLog(
            MigrationRun(
                app_label=migration.app_label,
                name=migration.name,
                direction=direction,
                atomic=migration.atomic,
                fake=fake,
                started_at=now(),
            ),
            max_statements=self.max_statements,
        )
        # A migration of safemigrate itself may lock the history tables: write after it.
        if migration.app_label == "safemigrate":
            self.history.hold()
        self.history.migration(log)
        self.current = log
        guard = MigrationGuard(self, migration, log)
        try:
            state = body() if fake else guard.execute(body)
        except BaseException as error:
            guard.finish(Status.FAILED, error)
            raise
        else:
            guard.finish(Status.SUCCEEDED)
        finally:
            self.history.deferred = False
            self.history.sync()
        return state

    def failure_message(self, error: Exception) -> str:
        """Say which migration failed, what of it stays applied, and how to roll back."""
        log = self.current
        if log is None or log.record.status == Status.SUCCEEDED:
            return f"safemigrate failed outside any migration: {error}"
        label = f"{log.record.app_label}.{log.record.name}"
        kept = (
            "It was atomic: nothing of it was kept."
            if log.record.atomic
            else f"It was not atomic: {committed_statements(log)} statement(s) ran before the "
            "failure and stay applied; see the run history for which."
        )
        return f"Migration {label} failed: {error}\n{kept}{self._rollback_hint(log)}"

    def _rollback_hint(self, failed: MigrationLog) -> str:
        """Name the commands that undo what this run applied (a forward run only)."""
        if failed.record.direction != Direction.FORWARDS:
            return ""
        commands = rollback_commands(self.history.migrations, failed)
        if not commands:
            return "\nNothing of this run stays applied."
        partial = half_applied(failed)
        if self.history.run.pk is not None and not partial:
            # --rollback undoes exactly the run's migrations; it refuses a half-applied one.
            commands = [f"python manage.py safemigrate --rollback {self.history.run.pk}"]
        lines = "".join(f"\n    {command}" for command in commands)
        note = (
            "\n(--fake marks the failed migration applied, so that the next command "
            "unapplies all its operations; if it failed before its last one, as a postcondition "
            "placed last never does, first make sure those that never ran can be unapplied, or "
            "use --doctor.)"
            if partial
            else ""
        )
        return f"\nTo roll back what this run applied:{lines}{note}"

    def end(self, status: Status, exit_code: int, error: str = "") -> None:
        self.history.end(status, exit_code, redact(error))


def _new_run(alias: str, options: Mapping[str, Any]) -> Run:
    return Run(
        started_at=now(),
        database=alias,
        targets=[options.get("app_label"), options.get("migration_name")],
        options={key: options.get(key) for key in RECORDED_OPTIONS if key in options},
        os_user=_os_user(),
        hostname=socket.gethostname(),
        django_version=django.get_version(),
        safemigrate_version=safemigrate.__version__,
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def git_revision() -> str:
    """Return the deployed revision: from the CI's environment, else from ``git``."""
    for name in _GIT_REVISION_ENV:
        if os.environ.get(name):
            return os.environ[name][:64]
    base = Path(getattr(settings, "BASE_DIR", Path.cwd()))
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=base,
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip()[:64] if result.returncode == 0 else ""
