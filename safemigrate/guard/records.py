"""What a run records of each migration, in memory until the history writes it.

``MigrationLog`` holds one migration's ``MigrationRun`` record with its attempts, statements
and postcondition results; the guard fills it as the migration runs, and ``history.History``
writes it when safemigrate's tables exist.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from safemigrate.models import Attempt, MigrationRun, Outcome, Postcondition, Status


def now() -> datetime:
    return timezone.now()


@dataclass(slots=True)
class StatementRecord:
    """One statement a migration ran, kept until written as a ``Statement`` row (by ``COPY``,
    column by column: the attributes are the model's). Not a model instance: building one
    for each of the hundreds of statements a history runs cost more than the recording."""

    attempt: int
    sql: str
    offset_ms: int
    duration_ms: float
    outcome: str
    lock_timeout_ms: int | None
    statement_timeout_ms: int | None
    position: int = 0
    migration_id: int | None = None


@dataclass
class MigrationLog:
    """Everything recorded about one migration in a run."""

    record: MigrationRun
    max_statements: int
    attempts: list[Attempt] = field(default_factory=list)
    statements: list[StatementRecord] = field(default_factory=list)
    postconditions: list[Postcondition] = field(default_factory=list)
    finished: bool = False
    #: What the database has of this log: nothing, the started record, or all of it.
    written: str = "nothing"
    clock: float = field(default_factory=time.monotonic)

    @property
    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.clock) * 1000)

    def add_statement(self, statement: StatementRecord) -> None:
        """Keep the statement, or count it when the history's cap is reached."""
        if len(self.statements) < self.max_statements:
            statement.position = len(self.statements) + self.record.statements_omitted
            self.statements.append(statement)
        else:
            self.record.statements_omitted += 1
        if statement.outcome in (Outcome.LOCK_TIMEOUT, Outcome.DEADLOCK):
            self.record.lock_wait_ms += int(statement.duration_ms)

    def add_postcondition(self, check: Postcondition) -> None:
        """Keep what one of the migration's checks found, in the attempt running now."""
        check.attempt = len(self.attempts) + 1
        check.position = len(self.postconditions)
        self.postconditions.append(check)

    def finish(self, status: Status, error: str = "") -> None:
        self.record.status = status
        self.record.duration_ms = self.elapsed_ms
        self.record.error = error
        self.finished = True
