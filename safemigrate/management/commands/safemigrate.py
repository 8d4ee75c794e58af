"""``manage.py safemigrate``: ``migrate``, with lock timeouts, retries, pre-flight and a history.

The command is thin: it reads its options, picks the mode they ask for, and calls that
mode's one entry function in the part that does the work. Every ``SafemigrateError`` becomes
a ``CommandError`` with the error's exit code.
"""

from __future__ import annotations

import functools
import gc
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError, CommandParser
from django.core.management.commands import migrate
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration

from safemigrate.analysis.lint import FORMATS as LINT_FORMATS
from safemigrate.analysis.lint import lint_command
from safemigrate.backfill import control
from safemigrate.compat import migrate_uses_executor
from safemigrate.deploy.policy import DeployPolicy, deploy_policy
from safemigrate.exceptions import (
    ExitCode,
    LintFindings,
    PostconditionFailed,
    RehearsalFailed,
    SafemigrateError,
    exit_code_of,
)
from safemigrate.guard.executor import GuardedExecutor
from safemigrate.guard.output import Reporter
from safemigrate.guard.run import GuardedRun, active_run
from safemigrate.management import options as safemigrate_options
from safemigrate.management.options import READ_ONLY_OPTIONS, chosen_format
from safemigrate.models import Run, Status
from safemigrate.recovery import backup_wanted
from safemigrate.recovery.tables import forward_tables
from safemigrate.review.gate import check_before_run

if TYPE_CHECKING:
    from safemigrate.recovery.backup import BackupPlan

Options = dict[str, Any]

# The modes other than applying the plan import their parts when they run: a run that applies
# a migration need not load --fix, --doctor, --rollback, --runbook and --rehearse (about 35 ms of
# imports), nor a backup's or the --json summary's unless it takes or prints one.


class Command(migrate.Command):
    help = (
        "Update the database schema like migrate, with short lock timeouts, retries with "
        "backoff, a report of blocking sessions and a recorded history of every run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        safemigrate_options.add_arguments(parser)

    def run_from_argv(self, argv: list[str]) -> None:
        """Run from the command line, with what start-up made out of the collector's way.

        Django's start-up leaves about 100,000 objects (modules, models, settings) that live
        as long as the process. The cyclic garbage collector walks them all in each full
        collection, during the run and again at exit: about a tenth of the CPU time of a run
        of quick migrations. ``gc.freeze()`` keeps them out of its reach; nothing of it is
        undone because the process ends when this returns. ``call_command`` (a process that
        goes on) does not come this way.
        """
        gc.freeze()
        super().run_from_argv(argv)

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        if options["json"]:
            self.json_out, self.stdout = self.stdout, self.stderr
        self.verbosity = options["verbosity"]
        self.reporter = Reporter(self.stdout, self.style, self.verbosity)
        if connection.vendor != "postgresql":
            self.stderr.write(
                f"safemigrate: database {connection.alias!r} is {connection.vendor}, not "
                "PostgreSQL; migrating as plain migrate does, without guards or history."
            )
            super().handle(*args, **options)
            return
        try:
            self._mode(options)(connection, options)
        except SafemigrateError as error:
            raise CommandError(str(error), returncode=error.exit_code) from error

    def _mode(self, options: Options) -> Callable[[BaseDatabaseWrapper, Options], None]:
        """Return the entry for the mode the options ask for; applying the plan by default."""
        for option, mode in (
            ("fix", self._fix),
            ("doctor", self._doctor),
            ("rollback", self._rollback),
            *((option, self._plain) for option in READ_ONLY_OPTIONS),
            ("lint", self._lint),
            ("backfills", self._backfills),
            *((f"backfill_{action}", self._backfills) for action in control.BACKFILL_ACTIONS),
            ("runbook", self._runbook),
            ("rehearse", self._rehearse),
        ):
            if options.get(option):
                return mode
        return self._migrate

    def _plain(self, connection: BaseDatabaseWrapper, options: Options) -> None:
        """``--plan``, ``--check`` and ``--prune`` only read: ``migrate`` does them as is."""
        super().handle(**options)

    def _fix(self, connection: BaseDatabaseWrapper, options: Options) -> None:
        from safemigrate.operations.fix import rewrite_migration

        for line in rewrite_migration(options["app_label"], options["migration_name"]):
            self.stdout.write(line)

    def _doctor(self, connection: BaseDatabaseWrapper, options: Options) -> None:
        from safemigrate.operations.doctor import doctor_command

        interactive = options.get("interactive", True) and sys.stdin.isatty()
        ask = input if interactive else None
        doctor_command(connection, self.stdout.write, ask, yes=options["yes"], undo=options["undo"])

    def _lint(self, connection: BaseDatabaseWrapper, options: Options) -> None:
        """Print the analysis of the plan; exit 1 if an error-level finding is pending."""
        out = getattr(self, "json_out", self.stdout)
        fmt = chosen_format(options, LINT_FORMATS, "--lint")
        try:
            out.write(lint_command(connection, options, fmt))
        except LintFindings as error:
            out.write(error.report)
            raise

    def _backfills(self, connection: BaseDatabaseWrapper, options: Options) -> None:
        self.stdout.write(control.backfill_command(connection.alias, options) or "")

    def _runbook(self, connection: BaseDatabaseWrapper, options: Options) -> None:
        from safemigrate.review.render import FORMATS as RUNBOOK_FORMATS
        from safemigrate.review.render import render as render_runbook
        from safemigrate.review.runbook import build_runbook

        fmt = chosen_format(options, RUNBOOK_FORMATS, "--runbook")
        book = build_runbook(connection, options["app_label"], options["migration_name"])
        self.stdout.write(render_runbook(book, fmt), ending="")

    def _rehearse(self, connection: BaseDatabaseWrapper, options: Options) -> None:
        """Rehearse the plan on a scratch copy; the report goes out even when it failed."""
        from safemigrate.rehearsal.command import rehearse_command

        out = getattr(self, "json_out", self.stdout)
        try:
            out.write(rehearse_command(connection, options), ending="")
        except RehearsalFailed as error:
            out.write(error.report, ending="")
            raise

    def _migrate(self, connection: BaseDatabaseWrapper, options: Options) -> None:
        """Apply the plan as ``migrate`` would, each migration under the guard."""
        checked = check_before_run(connection, options)
        if checked.notice:
            self.stderr.write(checked.notice)
        if checked.outside_window:
            self.stderr.write(
                f"safemigrate: outside the maintenance windows: {checked.outside_window}"
            )
        policy = deploy_policy(options, self.reporter.notice)
        backup = self._plan_backup(
            connection, options, lambda: forward_tables(connection, options, checked.report)
        )
        self._guarded(
            connection,
            options,
            backup,
            lambda run: self._apply(run, options),
            policy=policy,
            outside_window=checked.outside_window,
        )

    def _apply(self, run: GuardedRun, options: Options) -> None:
        control.finish_pending(run.connection.alias)
        super().handle(**options)

    def _rollback(self, connection: BaseDatabaseWrapper, options: Options) -> None:
        """Unapply what one run applied; never gated by the analysis, approvals or phases."""
        from safemigrate.recovery.rollback import prepare_rollback

        rollback = prepare_rollback(connection, options)
        nothing = rollback.nothing_to_do()
        if nothing:
            self.stdout.write(nothing)
            return
        backup = self._plan_backup(connection, options, rollback.tables)
        self._guarded(
            connection,
            options,
            backup,
            lambda run: rollback.execute(run, self.migration_progress_callback),
            rollback_of=rollback.target,
        )

    @staticmethod
    def _plan_backup(
        connection: BaseDatabaseWrapper, options: Options, tables: Callable[[], list[str]]
    ) -> BackupPlan | None:
        """The run's backup, if it takes one; only then are the backup's parts imported."""
        if not backup_wanted(options):
            return None
        from safemigrate.recovery.backup import plan_backup

        return plan_backup(connection, options, tables)

    def _guarded(
        self,
        connection: BaseDatabaseWrapper,
        options: Options,
        backup: BackupPlan | None,
        body: Callable[[GuardedRun], None],
        *,
        policy: DeployPolicy | None = None,
        rollback_of: Run | None = None,
        outside_window: str = "",
    ) -> None:
        """Run ``body`` as one recorded, guarded run, after the backup if one was asked for."""
        self.run = GuardedRun(connection, options, self.reporter)
        self.run.history.run.rollback_of = rollback_of
        self.run.history.run.outside_window_reason = outside_window
        try:
            self._run_guarded(self.run, backup, body, policy)
        except (DatabaseError, PostconditionFailed) as error:
            raise CommandError(self.run.failure_message(error), returncode=1) from error

    def _run_guarded(
        self,
        run: GuardedRun,
        backup: BackupPlan | None,
        body: Callable[[GuardedRun], None],
        policy: DeployPolicy | None,
    ) -> None:
        executor = functools.partial(GuardedExecutor, run=run, policy=policy)
        with run, migrate_uses_executor(executor):
            token = active_run.set(run)
            try:
                if backup is not None:
                    from safemigrate.recovery.backup import take_backup

                    take_backup(run, backup)
                body(run)
            except BaseException as error:
                code = exit_code_of(error)
                status = Status.INTERRUPTED if code is None else Status.FAILED
                run.end(status, code or ExitCode.MIGRATION_FAILED, str(error))
                self._report(run)
                raise
            finally:
                active_run.reset(token)
            run.end(Status.SUCCEEDED, ExitCode.OK)
            self._report(run)

    def _report(self, run: GuardedRun) -> None:
        if run.history.warning:
            self.stderr.write(f"safemigrate: {run.history.warning}")
        if getattr(self, "json_out", None) is not None:
            from safemigrate.guard.summary import summary

            self.json_out.write(json.dumps(summary(run.history), indent=2, default=str))

    def migration_progress_callback(
        self, action: str, migration: Migration | None = None, fake: bool = False
    ) -> None:
        """Print one line per migration with its time, and its attempts when it retried."""
        log = getattr(getattr(self, "run", None), "current", None)
        if action in ("apply_start", "unapply_start"):
            retrying = (
                log is not None
                and migration is not None
                and bool(log.attempts)
                and log.record.name == migration.name
            )
            if not retrying:
                verb = "Applying" if action == "apply_start" else "Unapplying"
                self.reporter.migration_started(verb, migration)
        elif action in ("apply_success", "unapply_success"):
            self.reporter.migration_ended(fake, len(log.attempts) + 1 if log is not None else 1)
        else:
            super().migration_progress_callback(action, migration, fake)
