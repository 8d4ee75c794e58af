"""Hand what a postcondition found to the ``safemigrate`` run in progress, if there is one.

Under plain ``migrate`` (or a test's migrator) there is no run and nothing is recorded; the
check still fails its migration when it does not hold.
"""

from __future__ import annotations

from safemigrate.guard.run import active_run
from safemigrate.models import Postcondition
from safemigrate.postgres.sessions import redact
from safemigrate.verify.results import CheckResult


def record(result: CheckResult) -> None:
    """Add ``result`` to the log of the migration the run is applying."""
    run = active_run.get()
    log = run.current if run is not None else None
    if log is None:
        return
    log.add_postcondition(
        Postcondition(
            description=result.description[:500],
            sql=redact(result.sql),
            expected=result.expected,
            actual=result.actual,
            passed=result.passed,
            error=result.error,
            duration_ms=result.duration_ms,
        )
    )
