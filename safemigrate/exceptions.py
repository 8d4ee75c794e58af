"""The errors safemigrate raises, and the exit codes the command maps them to."""

from __future__ import annotations

from enum import IntEnum

from safemigrate.postgres.locks import LockMode
from safemigrate.postgres.sessions import Session


class ExitCode(IntEnum):
    """What ``manage.py safemigrate`` exits with, so deploy scripts can tell outcomes apart."""

    OK = 0
    #: A migration failed (or ``--check`` found unapplied migrations, as with ``migrate``).
    MIGRATION_FAILED = 1
    #: Bad arguments or settings: nothing was run.
    USAGE = 2
    #: Locks could not be had: retries ran out, or another run holds the run lock.
    LOCKED_OUT = 3
    #: A gate refused to apply: error-level findings nobody acknowledged, a migration
    #: without the approved review the gate requires, a post-deploy migration in the pre
    #: phase, one that live processes running old code still need, or a risky migration
    #: outside the maintenance windows; or a rollback of a run that cannot be fully reversed.
    #: Nothing was run.
    REFUSED = 4
    #: The backup before the run failed (no usable pg_dump, pg_dump's error, a full disk).
    #: Nothing was applied.
    BACKUP_FAILED = 5
    #: The rehearsal (``--rehearse``) failed: the copy, an apply, the rollback, the
    #: re-apply, a postcondition, a schema that differs, or a query the plan ruined. The
    #: real database was not changed.
    REHEARSAL_FAILED = 6


class SafemigrateError(Exception):
    """Base class of the errors safemigrate raises on purpose."""

    exit_code = ExitCode.MIGRATION_FAILED


class ConfigurationError(SafemigrateError):
    """A setting, option or migration attribute has a value safemigrate cannot use."""

    exit_code = ExitCode.USAGE


class UnsafeMigration(SafemigrateError):
    """The plan holds error-level findings that neither the migration nor the run accepted."""

    exit_code = ExitCode.REFUSED


class LintFindings(SafemigrateError):
    """``--lint`` found error-level findings: the plan is not safe to apply as written."""

    def __init__(self, message: str, report: str) -> None:
        super().__init__(message)
        self.report = report


class LeftoversRemain(SafemigrateError):
    """``--doctor`` left findings as they were: they still need finishing or undoing."""


class AnalysisFailed(SafemigrateError):
    """The analysis before a run broke on an operation; nothing was run."""

    exit_code = ExitCode.REFUSED


class RetriesExhausted(SafemigrateError):
    """A migration kept failing on locks until its retries or deadline ran out."""

    exit_code = ExitCode.LOCKED_OUT


class RunLockHeld(SafemigrateError):
    """Another safemigrate run is migrating the same database."""

    exit_code = ExitCode.LOCKED_OUT


class PoolerUnsafe(SafemigrateError):
    """The connection goes through a transaction pooler that would drop session settings."""

    exit_code = ExitCode.USAGE


class ApprovalRequired(SafemigrateError):
    """``REQUIRE_APPROVAL`` (or ``--require-approval``) refused migrations nobody approved."""

    exit_code = ExitCode.REFUSED


class BackupFailed(SafemigrateError):
    """The backup a run asked for could not be taken; the run stopped before applying anything."""

    exit_code = ExitCode.BACKUP_FAILED


class RollbackRefused(SafemigrateError):
    """A run cannot be fully reversed (or not now); the rollback changed nothing."""

    exit_code = ExitCode.REFUSED


class OutsideMaintenanceWindow(SafemigrateError):
    """Risky migrations were asked to run outside every ``MAINTENANCE_WINDOWS`` window."""

    exit_code = ExitCode.REFUSED


class PostconditionFailed(SafemigrateError):
    """A check a migration declared (``Verify``, ``VerifyPython``) did not hold after it.

    The migration fails as if one of its statements had: an atomic one is rolled back.
    """


class BlockedByLongTransaction(SafemigrateError):
    """Pre-flight found long transactions holding locks a statement needs.

    Raised inside an atomic migration so the whole attempt rolls back (releasing every lock
    it took) and waits outside the transaction, instead of queueing behind the blockers while
    holding locks of its own.
    """

    def __init__(self, table: str, mode: LockMode, blockers: list[Session]) -> None:
        self.table = table
        self.mode = mode
        self.blockers = blockers
        super().__init__(f"long transactions hold locks on {table!r}")


class BackfillInTransaction(ConfigurationError):
    """A backfill was asked to run inside a transaction, where its batches could not commit."""


class BackfillStopped(SafemigrateError):
    """A backfill was cancelled, or failed on a task worker, before it reached its end."""


def exit_code_of(error: BaseException) -> int | None:
    """Return the exit code a run ends with after ``error``; ``None`` if it was interrupted."""
    if isinstance(error, KeyboardInterrupt):
        return None
    if isinstance(error, SafemigrateError):
        return int(error.exit_code)
    if isinstance(error, SystemExit):
        return int(error.code or 0)
    return int(ExitCode.MIGRATION_FAILED)


class PhaseRefused(SafemigrateError):
    """``--phase pre`` was asked for a migration that must wait for the old code to be gone."""

    exit_code = ExitCode.REFUSED


class OldCodeRunning(SafemigrateError):
    """A post-deploy migration met live processes still running code without it."""

    exit_code = ExitCode.REFUSED


class RehearsalFailed(SafemigrateError):
    """The rehearsal failed at ``step``; the real database was not changed."""

    exit_code = ExitCode.REHEARSAL_FAILED

    def __init__(self, step: str, message: str, report: str = "") -> None:
        super().__init__(message)
        self.step = step
        #: The rehearsal's report, printed before the error.
        self.report = report
