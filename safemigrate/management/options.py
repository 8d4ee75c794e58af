"""The options ``manage.py safemigrate`` adds to ``migrate``'s, grouped by what they drive."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.management.base import CommandParser

from safemigrate.analysis.lint import FORMATS as LINT_FORMATS
from safemigrate.backfill.control import BACKFILL_ACTIONS
from safemigrate.conf.recovery import BACKUP_SCOPES
from safemigrate.deploy.policy import PHASES
from safemigrate.exceptions import ConfigurationError
from safemigrate.recovery import LATEST
from safemigrate.review.render import FORMATS as RUNBOOK_FORMATS

#: ``migrate`` options that only read: they need neither guard nor history.
READ_ONLY_OPTIONS = ("plan", "check_unapplied", "prune")


def add_arguments(parser: CommandParser) -> None:
    """Add safemigrate's options after ``migrate``'s own."""
    group = parser.add_argument_group("safemigrate")
    group.add_argument(
        "--lock-timeout",
        metavar="DURATION",
        help="How long the first attempt waits for a lock, e.g. 200ms or 2s; retries wait "
        "longer, up to --lock-timeout-max (default: SAFEMIGRATE['LOCK_TIMEOUT']).",
    )
    group.add_argument(
        "--lock-timeout-max",
        metavar="DURATION",
        help="The longest lock timeout a retry may grow to, and so the longest any query "
        "waits behind one attempt, e.g. 1s (default: SAFEMIGRATE['LOCK_TIMEOUT_MAX']).",
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
    for action in BACKFILL_ACTIONS:
        group.add_argument(
            f"--backfill-{action}",
            metavar="NAME",
            help=f"{action.capitalize()} the running backfill NAME (checked between batches), "
            "then exit.",
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
        "--phase",
        choices=PHASES,
        help="pre: apply only what is safe while the old code still runs, up to the first "
        "post-deploy migration of each app; post: the rest, once the old code is gone "
        "(default: everything, post-deploy migrations waiting for the old code to be gone).",
    )
    group.add_argument(
        "--outside-window",
        metavar="REASON",
        help="Apply risky migrations (error-level findings, long locks) outside "
        "SAFEMIGRATE['MAINTENANCE_WINDOWS']; the reason is kept in the run history.",
    )
    group.add_argument(
        "--allow-unsafe",
        action="store_true",
        help="Apply migrations even where the analysis finds error-level risks.",
    )
    recovery = parser.add_argument_group("backups and rollback")
    recovery.add_argument(
        "--backup",
        action="store_true",
        help="Before applying, pg_dump the tables the plan touches into "
        "SAFEMIGRATE['BACKUP_DIR']; a failed backup stops the run, exit code 5 "
        "(default: SAFEMIGRATE['BACKUP']).",
    )
    recovery.add_argument(
        "--no-backup",
        action="store_true",
        help="Take no backup this time, even with SAFEMIGRATE['BACKUP'] on.",
    )
    recovery.add_argument(
        "--backup-scope",
        choices=BACKUP_SCOPES,
        help="What the backup holds: the tables the plan touches, or the whole database "
        "(default: SAFEMIGRATE['BACKUP_SCOPE']).",
    )
    recovery.add_argument(
        "--rollback",
        nargs="?",
        const=LATEST,
        metavar="RUN_ID",
        help="Unapply exactly the migrations run RUN_ID applied (default: the latest "
        "successful run still applied), in reverse order, under the guard; refused, with "
        "the reasons, if the run cannot be fully reversed.",
    )
    rehearsal = parser.add_argument_group("rehearsal (safemigrate --rehearse)")
    rehearsal.add_argument(
        "--rehearse",
        action="store_true",
        help="Apply the plan on a scratch copy of the database under the guards, roll it "
        "back, apply it again, compare the schemas, replay the heaviest queries before and "
        "after, report each operation's time and drop the copy; the real database only "
        "gains the timings, in the reviews. Exit code 6 if a step fails.",
    )
    rehearsal.add_argument(
        "--rehearse-sample",
        type=int,
        metavar="ROWS",
        help="Copy only ROWS rows of each larger table no foreign key references, with "
        "pg_dump (default: SAFEMIGRATE['REHEARSAL_SAMPLE_ROWS'], every row).",
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


def chosen_format(options: Mapping[str, Any], allowed: tuple[str, ...], mode: str) -> str:
    """Return ``--format`` for this mode (its first format by default), or a usage error."""
    chosen = options.get("format") or allowed[0]
    if chosen not in allowed:
        raise ConfigurationError(
            f"--format {chosen} does not apply to {mode}; use one of {', '.join(allowed)}."
        )
    return str(chosen)
