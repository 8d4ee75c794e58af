"""The machine-readable summary of a run (``--json``)."""

from __future__ import annotations

from typing import Any

from safemigrate.guard.history import History
from safemigrate.guard.records import MigrationLog
from safemigrate.models import Backup


def summary(history: History) -> dict[str, Any]:
    """Return the run and each migration's outcome, attempts and blockers."""
    run = history.run
    return {
        "run_id": run.pk,
        "status": run.status,
        "exit_code": run.exit_code,
        "database": run.database,
        "started_at": run.started_at.isoformat(),
        "duration_ms": run.duration_ms,
        "error": run.error,
        "outside_window_reason": run.outside_window_reason or None,
        "history_saved": run.pk is not None,
        "rollback_of": run.rollback_of_id,
        "backup": _backup(history),
        "migrations": [_migration(log) for log in history.migrations],
    }


def _backup(history: History) -> dict[str, Any] | None:
    """The backup taken before the run, if any."""
    backup = next((r for r in history.attached if isinstance(r, Backup)), None)
    if backup is None:
        return None
    return {
        "status": backup.status,
        "scope": backup.scope,
        "tables": backup.tables,
        "path": backup.path,
        "size_bytes": backup.size_bytes,
        "duration_ms": backup.duration_ms,
        "pg_dump": backup.pg_dump,
        "restore_command": backup.restore_command,
        "error": backup.error,
    }


def _migration(log: MigrationLog) -> dict[str, Any]:
    record = log.record
    return {
        "app_label": record.app_label,
        "name": record.name,
        "direction": record.direction,
        "status": record.status,
        "atomic": record.atomic,
        "fake": record.fake,
        "duration_ms": record.duration_ms,
        "lock_wait_ms": record.lock_wait_ms,
        "statements": len(log.statements) + record.statements_omitted,
        "attempts": [
            {
                "number": attempt.number,
                "outcome": attempt.outcome,
                "duration_ms": attempt.duration_ms,
                "lock_timeout_ms": attempt.lock_timeout_ms,
                "backoff_ms": attempt.backoff_ms,
                "blockers": attempt.blockers,
                "error": attempt.error,
            }
            for attempt in log.attempts
        ],
        "postconditions": [
            {
                "description": check.description,
                "attempt": check.attempt,
                "passed": check.passed,
                "expected": check.expected,
                "actual": check.actual,
                "error": check.error,
                "duration_ms": check.duration_ms,
            }
            for check in log.postconditions
        ],
        "error": record.error,
    }
