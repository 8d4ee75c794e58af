"""What a run tells the operator while it works, and the ``--json`` summary after."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import OutputWrapper
from django.core.management.color import Style

from safemigrate.guard.storm import Storm
from safemigrate.models import Attempt, Outcome
from safemigrate.postgres.sessions import Session


class Reporter:
    """Progress lines for a terminal or a deploy log."""

    def __init__(self, out: OutputWrapper, style: Style, verbosity: int) -> None:
        self.out = out
        self.style = style
        self.verbosity = verbosity
        self.line_open = False
        self.started = time.monotonic()

    def write(self, text: str, style: Any = None, *, indent: int = 4) -> None:
        """Write one line, first ending a line left open by "Applying x..."."""
        if self.verbosity < 1:
            return
        if self.line_open:
            self.out.write("")
            self.line_open = False
        self.out.write(" " * indent + text, style)

    def open_line(self, text: str) -> None:
        if self.verbosity >= 1:
            self.out.write(text, ending="")
            self.out.flush()
            self.line_open = True

    def close_line(self, text: str, style: Any) -> None:
        if self.verbosity < 1:
            return
        if self.line_open:
            self.out.write(text, style)
        else:
            self.out.write("  ..." + text, style)
        self.line_open = False

    def migration_started(self, verb: str, migration: object) -> None:
        """Open the line of a migration: "  Applying app.0001_initial..."."""
        self.started = time.monotonic()
        self.open_line(f"  {verb} {migration}...")

    def migration_ended(self, fake: bool, attempts: int) -> None:
        """Close it with its time, and its attempts when it retried."""
        elapsed = time.monotonic() - self.started
        retries = f", {attempts} attempts" if attempts > 1 else ""
        word = "FAKED" if fake else "OK"
        self.close_line(f" {word} ({elapsed:.2f}s{retries})", self.style.SUCCESS)

    def notice(self, text: str) -> None:
        self.write(text, self.style.NOTICE, indent=0)

    def retrying(self, attempt: Attempt, outcome: Outcome, next_lock_timeout_ms: int) -> None:
        """Say why an attempt failed, who blocked it, and how the next one will wait."""
        what = {
            Outcome.LOCK_TIMEOUT: f"lock not granted within {attempt.lock_timeout_ms}ms",
            Outcome.DEADLOCK: "deadlock detected",
        }.get(outcome, outcome.label)
        self.write(f"attempt {attempt.number}: {what}", self.style.WARNING)
        for blocker in attempt.blockers:
            self.write(f"  blocked by {_describe(blocker)}", self.style.WARNING)
        self.write(
            f"  retrying in {attempt.backoff_ms / 1000:.2f}s "
            f"with lock timeout {next_lock_timeout_ms}ms"
        )

    def waiting(self, table: str, blockers: list[Session]) -> None:
        self.write(
            f"pre-flight: long transactions hold {table}; waiting outside the lock queue",
            self.style.WARNING,
        )
        for session in blockers:
            self.write(f"  {session.describe()}", self.style.WARNING)

    def storm(self, storm: Storm, first_ms: int, ceiling_ms: int) -> None:
        """Say that the pre-flight stops waiting: the table will not be free."""
        self.write(f"pre-flight: {storm.describe()}", self.style.WARNING)
        self.write(
            f"  not waiting for a quiet moment: attempts wait {first_ms}ms for the lock, "
            f"growing to at most {ceiling_ms}ms",
            self.style.WARNING,
        )

    def terminated(self, session: Session) -> None:
        self.write(f"terminated idle blocker {session.describe()}", self.style.WARNING)


def _describe(blocker: dict[str, Any]) -> str:
    return Session(**{**blocker, "lock_modes": tuple(blocker["lock_modes"])}).describe()
