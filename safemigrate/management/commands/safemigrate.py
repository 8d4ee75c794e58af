"""``manage.py safemigrate``: ``migrate``, with lock timeouts, retries, pre-flight and a history."""

from __future__ import annotations

import functools
import json
import sys
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.core.management.commands import migrate
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration

from safemigrate.analysis.formats import render as render_lint
from safemigrate.analysis.lint import FORMATS as LINT_FORMATS
from safemigrate.analysis.lint import analyse_before_run, refuse_unsafe, run_analysis
from safemigrate.backfill import control, runner
from safemigrate.backfill.listing import backfill_table
from safemigrate.compat import migrate_uses_executor
from safemigrate.conf import conf
from safemigrate.exceptions import ConfigurationError, ExitCode, SafemigrateError
from safemigrate.guard.executor import GuardedExecutor
from safemigrate.guard.output import Reporter
from safemigrate.guard.run import GuardedRun
from safemigrate.guard.summary import summary
from safemigrate.models import BackfillRequest, Status
from safemigrate.operations.doctor import Doctor, Finding, treat
from safemigrate.operations.fix import rewrite_migration
from safemigrate.review.gate import check_gate
from safemigrate.review.render import FORMATS as RUNBOOK_FORMATS
from safemigrate.review.render import render as render_runbook
from safemigrate.review.runbook import build_runbook

BACKFILL_ACTIONS = {"pause": "Pause", "resume": "Resume", "cancel": "Cancel"}
BACKFILL_REQUESTS = {
    "pause": BackfillRequest.PAUSE,
    "resume": None,
    "cancel": BackfillRequest.CANCEL,
}

#: ``migrate`` options that only read: they need neither guard nor history.
READ_ONLY_OPTIONS = ("plan", "check_unapplied", "prune")


class Command(migrate.Command):
    help = (
        "Update the database schema like migrate, with short lock timeouts, retries with "
        "backoff, a report of blocking sessions and a recorded history of every run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        group = parser.add_argument_group("safemigrate")
        group.add_argument(
            "--lock-timeout",
            metavar="DURATION",
            help="How long one attempt waits for a lock, e.g. 200ms or 2s "
            "(default: SAFEMIGRATE['LOCK_TIMEOUT']).",
        )
        group.add_argument(
            "--statement-timeout",
            metavar="DURATION",
            help="The longest one statement may run, e.g. 10min "
            "(default: SAFEMIGRATE['STATEMENT_TIMEOUT']).",
        )
        group.add_argument(
            "--retries",
            type=int,
            metavar="N",
            help="Retries after a lock timeout or deadlock (default: SAFEMIGRATE['RETRIES']).",
        )
        group.add_argument(
            "--no-preflight",
            action="store_true",
            help="Skip the pre-flight wait for long transactions: go straight to lock attempts "
            "(default: SAFEMIGRATE['PREFLIGHT']).",
        )
        group.add_argument(
            "--backfills",
            action="store_true",
            help="List backfills with their state and progress, then exit.",
        )
        for action, what in BACKFILL_ACTIONS.items():
            group.add_argument(
                f"--backfill-{action}",
                metavar="NAME",
                help=f"{what} the running backfill NAME (checked between batches), then exit.",
            )
        group.add_argument(
            "--doctor",
            action="store_true",
            help="Find what interrupted operations left (INVALID indexes, NOT VALID "
            "constraints, helper checks, non-atomic migrations that stopped midway) and "
            "offer to finish or undo each.",
        )
        group.add_argument(
            "--yes",
            action="store_true",
            help="With --doctor: finish every finding without asking (or undo, with --undo).",
        )
        group.add_argument(
            "--undo",
            action="store_true",
            help="With --doctor --yes: undo every finding instead of finishing it.",
        )
        group.add_argument(
            "--fix",
            action="store_true",
            help="Rewrite the migration file app_label migration_name, as makemigrations wrote "
            "it, into safemigrate's safe operations (non-atomic steps in migrations of their own).",
        )
        group.add_argument(
            "--json",
            action="store_true",
            help="Print a JSON summary of the run on stdout; progress goes to stderr.",
        )
        group.add_argument(
            "--runbook",
            action="store_true",
            help="Print the runbook of the pending plan (locks, duration, rollback, backup, "
            "checklist) and apply nothing.",
        )
        group.add_argument(
            "--format",
            choices=sorted({*RUNBOOK_FORMATS, *LINT_FORMATS}),
            help="Output format: for --runbook md (default), html or json; for --lint text "
            "(default), json or github.",
        )
        group.add_argument(
            "--require-approval",
            nargs="?",
            const="all",
            choices=("errors", "all"),
            metavar="errors|all",
            help="Refuse migrations without an approved review: all of them (the default) or "
            "those with error findings (default: SAFEMIGRATE['REQUIRE_APPROVAL']).",
        )
        group.add_argument(
            "--allow-unsafe",
            action="store_true",
            help="Apply migrations even where the analysis finds error-level risks.",
        )
        lint = parser.add_argument_group("analysis (safemigrate --lint)")
        lint.add_argument(
            "--lint",
            action="store_true",
            help="Analyse the plan without applying it; exit 1 on error-level findings.",
        )
        lint.add_argument(
            "--assume-production",
            action="store_true",
            help="Judge every table as large and in use, without database statistics "
            "(for CI); the plan starts from a clean database.",
        )
        lint.add_argument(
            "--since",
            metavar="GIT_REF",
            help="Judge only the migration files added since GIT_REF (e.g. origin/main).",
        )
        lint.add_argument(
            "--trace",
            action="store_true",
            help="Also run the judged statements on a throwaway copy of the schema and report "
            "the locks and rewrites PostgreSQL really performed.",
        )
        lint.add_argument(
            "--include-third-party",
            action="store_true",
            help="Judge installed apps' migrations too (skipped unless named).",
        )

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
        if options["fix"]:
            self._fix(options["app_label"], options["migration_name"])
            return
        if options["doctor"]:
            self._doctor(connection, options)
            return
        if any(options.get(name) for name in READ_ONLY_OPTIONS):
            super().handle(*args, **options)
            return
        if options["lint"]:
            self._lint(connection, options)
            return
        if self._backfill_command(connection.alias, options):
            return
        try:
            if options.get("runbook"):
                self._print_runbook(connection, options)
                return
            self._check_gate(connection, options)
            if not (options["fake"] or options["allow_unsafe"]):
                refuse_unsafe(analyse_before_run(connection, options))
            run = GuardedRun(connection, options, self.reporter)
        except SafemigrateError as error:
            raise CommandError(str(error), returncode=error.exit_code) from error
        self.run = run
        self._migrate_guarded(run, *args, **options)

    def _print_runbook(self, connection: BaseDatabaseWrapper, options: dict[str, Any]) -> None:
        book = build_runbook(connection, options["app_label"], options["migration_name"])
        fmt = _format(options, RUNBOOK_FORMATS, "--runbook")
        self.stdout.write(render_runbook(book, fmt), ending="")

    def _check_gate(self, connection: BaseDatabaseWrapper, options: dict[str, Any]) -> None:
        mode = options.get("require_approval") or conf.require_approval
        if mode and not options.get("fake"):
            notice = check_gate(connection, mode, options["app_label"], options["migration_name"])
            if notice:
                self.stderr.write(notice)

    def _lint(self, connection: BaseDatabaseWrapper, options: dict[str, Any]) -> None:
        """Print the analysis of the plan; exit 1 if an error-level finding is pending."""
        try:
            fmt = _format(options, LINT_FORMATS, "--lint")
            report = run_analysis(connection, options)
        except SafemigrateError as error:
            raise CommandError(str(error), returncode=error.exit_code) from error
        out = getattr(self, "json_out", self.stdout)
        out.write(render_lint(report, fmt))
        if report.blocking:
            raise CommandError(
                f"{len(report.blocking)} error-level finding(s): rewrite the operations as "
                "each fix says, or acknowledge them with safemigrate = {'allow': {...}}.",
                returncode=ExitCode.MIGRATION_FAILED,
            )

    def _migrate_guarded(self, run: GuardedRun, *args: Any, **options: Any) -> None:
        try:
            with run, migrate_uses_executor(functools.partial(GuardedExecutor, run=run)):
                token = runner.active_run.set(run)
                try:
                    control.finish_pending(run.connection.alias)
                    super().handle(*args, **options)
                except BaseException as error:
                    code = self._exit_code(error)
                    status = Status.INTERRUPTED if code is None else Status.FAILED
                    run.end(status, code or ExitCode.MIGRATION_FAILED, str(error))
                    self._report(run)
                    raise
                finally:
                    runner.active_run.reset(token)
                run.end(Status.SUCCEEDED, ExitCode.OK)
                self._report(run)
        except SafemigrateError as error:
            raise CommandError(str(error), returncode=error.exit_code) from error
        except DatabaseError as error:
            raise CommandError(self._failure_message(run, error), returncode=1) from error

    def _backfill_command(self, alias: str, options: dict[str, Any]) -> bool:
        """Handle ``--backfills`` and ``--backfill-ACTION NAME``; return whether one was given."""
        if options["backfills"]:
            self.stdout.write(backfill_table(alias))
            return True
        for action in BACKFILL_ACTIONS:
            name = options[f"backfill_{action}"]
            if name:
                try:
                    state = control.request(alias, name, BACKFILL_REQUESTS[action])
                except SafemigrateError as error:
                    raise CommandError(str(error), returncode=error.exit_code) from error
                self.stdout.write(f"Backfill {state.name}: {action} requested ({state.status}).")
                return True
        return False

    def _doctor(self, connection: Any, options: dict[str, Any]) -> None:
        doctor = Doctor(connection)
        interactive = options.get("interactive", True) and sys.stdin.isatty()

        def choose(finding: Finding) -> str:
            if options["yes"]:
                return "undo" if options["undo"] else "finish"
            if not interactive:
                return "skip"
            answer = input("   [f]inish, [u]ndo or [s]kip? ").strip().lower()[:1]
            return {"f": "finish", "u": "undo"}.get(answer, "skip")

        left = treat(doctor.findings(), self.stdout.write, choose)
        if left:
            raise CommandError(
                f"{left} finding(s) left as they are: rerun with --doctor --yes to finish them "
                "(or --doctor --yes --undo to undo them).",
                returncode=ExitCode.MIGRATION_FAILED,
            )

    def _fix(self, app_label: str | None, name: str | None) -> None:
        if not app_label or not name:
            raise CommandError(
                "--fix needs the migration to rewrite: manage.py safemigrate --fix app_label "
                "migration_name",
                returncode=ExitCode.USAGE,
            )
        for line in rewrite_migration(app_label, name):
            self.stdout.write(line)

    @staticmethod
    def _exit_code(error: BaseException) -> int | None:
        if isinstance(error, KeyboardInterrupt):
            return None
        if isinstance(error, SafemigrateError):
            return int(error.exit_code)
        if isinstance(error, SystemExit):
            return int(error.code or 0)
        return int(ExitCode.MIGRATION_FAILED)

    def _failure_message(self, run: GuardedRun, error: DatabaseError) -> str:
        log = run.current
        if log is None or log.record.status == Status.SUCCEEDED:
            return f"safemigrate failed outside any migration: {error}"
        label = f"{log.record.app_label}.{log.record.name}"
        kept = (
            "It was atomic: nothing of it was kept."
            if log.record.atomic
            else f"It was not atomic: {len(log.statements)} statement(s) ran before the "
            "failure and stay applied; see the run history for which."
        )
        return f"Migration {label} failed: {error}\n{kept}"

    def _report(self, run: GuardedRun) -> None:
        if run.history.warning:
            self.stderr.write(f"safemigrate: {run.history.warning}")
        if getattr(self, "json_out", None) is not None:
            self.json_out.write(json.dumps(summary(run.history), indent=2, default=str))

    def migration_progress_callback(
        self, action: str, migration: Migration | None = None, fake: bool = False
    ) -> None:
        """Print one line per migration with its time, and its attempts when it retried."""
        if action in ("apply_start", "unapply_start"):
            run = getattr(self, "run", None)
            log = getattr(run, "current", None)
            retrying = (
                log is not None
                and migration is not None
                and bool(log.attempts)
                and log.record.name == migration.name
            )
            if not retrying:
                verb = "Applying" if action == "apply_start" else "Unapplying"
                self._started = time.monotonic()
                self.reporter.open_line(f"  {verb} {migration}...")
        elif action in ("apply_success", "unapply_success"):
            elapsed = time.monotonic() - self._started
            log = getattr(getattr(self, "run", None), "current", None)
            attempts = len(log.attempts) + 1 if log is not None else 1
            retries = f", {attempts} attempts" if attempts > 1 else ""
            word = "FAKED" if fake else "OK"
            self.reporter.close_line(f" {word} ({elapsed:.2f}s{retries})", self.style.SUCCESS)
        else:
            super().migration_progress_callback(action, migration, fake)


def _format(options: dict[str, Any], allowed: tuple[str, ...], mode: str) -> str:
    """Return ``--format`` for this mode (its first format by default), or a usage error."""
    chosen = options.get("format") or allowed[0]
    if chosen not in allowed:
        raise ConfigurationError(
            f"--format {chosen} does not apply to {mode}; use one of {', '.join(allowed)}."
        )
    return str(chosen)
