"""The maintenance windows gate: risky migrations run inside a window, or with a reason.

A forward migration is risky when the analysis gives it an error-level finding (acknowledged
or not: an acknowledgement says the risk is accepted, a window is where it is taken), or a
*long lock*: a lock that stops writes on a table with rows, held while tables are rewritten
or scanned for an estimated ``MAINTENANCE_LONG_LOCK`` or more, or for a time nobody can
estimate. An atomic migration holds its locks until it commits, so its whole work counts; a
non-atomic one holds each lock for one statement. Outside every window, such a plan is
refused (exit code 4) unless the run gives ``--outside-window REASON``, which the run
history keeps. Rollbacks are never refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from safemigrate.analysis.estimate import estimate_seconds
from safemigrate.analysis.report import (
    AnalysisReport,
    MigrationReport,
    OperationReport,
    StatementReport,
)
from safemigrate.analysis.rules import Severity
from safemigrate.conf import conf
from safemigrate.conf.windows import Window
from safemigrate.exceptions import AnalysisFailed, ConfigurationError, OutsideMaintenanceWindow
from safemigrate.postgres.locks import LockMode
from safemigrate.review.this_run import analyse_this_run

DOCS = "See docs/command.md#maintenance-windows."
#: One statement of the plan, with the operation it belongs to.
Step = tuple[OperationReport, StatementReport]


def now() -> datetime:
    """The clock the gate reads; tests replace it to stand at a fixed moment."""
    return timezone.now()


@dataclass(frozen=True)
class Risk:
    """Why one migration of the plan needs a window."""

    migration: str
    why: str


def enforce_window(
    connection: BaseDatabaseWrapper, options: Mapping[str, Any], report: AnalysisReport | None
) -> str:
    """Refuse a risky plan outside the maintenance windows; return the override's reason.

    ``report`` is the plan the run already judged, if any (``--allow-unsafe`` skips it). The
    reason is returned only when it was needed (the run is outside every window), so the
    history records it then.
    """
    windows = conf.maintenance_windows
    reason = outside_window_reason(options)
    moment = now()
    if windows is None or options.get("fake") or any(w.contains(moment) for w in windows):
        return ""
    if reason:
        return reason
    found = risks(report or _analyse(connection, options), conf.maintenance_long_lock_ms / 1000)
    if found:
        raise OutsideMaintenanceWindow(refusal(found, windows, moment))
    return ""


def outside_window_reason(options: Mapping[str, Any]) -> str:
    """Return ``--outside-window``'s reason; an empty one is a usage error."""
    reason = options.get("outside_window")
    if reason is not None and not str(reason).strip():
        raise ConfigurationError(
            '--outside-window needs a reason, e.g. --outside-window "hotfix for the checkout '
            'outage, approved by the on-call lead"; it is recorded in the run history.'
        )
    return str(reason or "").strip()


def _analyse(connection: BaseDatabaseWrapper, options: Mapping[str, Any]) -> AnalysisReport:
    """Judge the plan for the gate when the run skipped the analysis (``--allow-unsafe``)."""
    try:
        return analyse_this_run(connection, options)
    except AnalysisFailed as error:
        raise OutsideMaintenanceWindow(
            f"{error}\nWithout the analysis safemigrate cannot tell whether the plan is "
            "risky, and it is outside the maintenance windows: run inside one, or pass "
            f'--outside-window "why it cannot wait". {DOCS}'
        ) from error


def risks(report: AnalysisReport, long_lock_s: float) -> list[Risk]:
    """Return, for each forward migration of the plan that needs a window, why."""
    found = []
    for migration in report.migrations:
        if migration.backwards:
            continue
        reasons = _errors(migration) + _long_locks(migration, long_lock_s)
        if reasons:
            found.append(Risk(migration.label, "; ".join(dict.fromkeys(reasons))))
    return found


def _errors(migration: MigrationReport) -> list[str]:
    return [
        f"error-level finding {finding.rule_id} ({finding.message})"
        for finding in migration.findings
        if finding.severity == Severity.ERROR
    ]


def _long_locks(migration: MigrationReport, long_lock_s: float) -> list[str]:
    """Name the write-blocking locks held for long: in an atomic migration every lock is held
    until its transaction commits; in a non-atomic one, for one statement."""
    steps = [(op, statement) for op in migration.operations for statement in op.statements]
    spans = [steps] if migration.atomic else [[step] for step in steps]
    return [why for span in spans if (why := _long_lock(span, long_lock_s, migration.atomic))]


def _long_lock(span: list[Step], long_lock_s: float, atomic: bool) -> str:
    stats = {table: found for op, _ in span for table, found in op.stats.items()}
    held: dict[str, LockMode] = {}
    for _, statement in span:
        for table, mode in statement.locks.items():
            # An empty table (one this plan creates) keeps nobody waiting.
            known = stats.get(table)
            if mode.blocks_writes and (known is None or known.size_bytes != 0):
                held[table] = max(held.get(table, mode), mode)
    busy = any(statement.rewrites or statement.scans for _, statement in span)
    if not (held and busy):
        return ""
    seconds = estimate_seconds([statement for _, statement in span], stats.get)
    if seconds is not None and seconds < long_lock_s:
        return ""
    locks = ", ".join(
        f"{mode.name.replace('_', ' ')} lock on {table}" for table, mode in sorted(held.items())
    )
    where = (
        "until the migration's transaction commits" if atomic else f"operation #{span[0][0].index}"
    )
    return f"{locks} for {_how_long(seconds)} ({where})"


def _how_long(seconds: float | None) -> str:
    if seconds is None:
        return "an unknown time (table size unknown)"
    return "<0.1s" if seconds < 0.1 else f"~{seconds:.1f}s"


def refusal(found: list[Risk], windows: list[Window], moment: datetime) -> str:
    """The refusal: what is risky, when the windows are, when the next one opens."""
    lines = "".join(f"\n  {risk.migration}: {risk.why}" for risk in found)
    described = "; ".join(window.describe() for window in windows) or "none"
    opening = min((window.next_opening(moment) for window in windows), default=None)
    next_one = f" The next one opens {opening:%a %Y-%m-%d %H:%M %Z}." if opening else ""
    return (
        f"safemigrate refused to run: it is {moment:%a %Y-%m-%d %H:%M %Z}, outside the "
        f"maintenance windows, and these migrations need one:{lines}\n"
        f"Maintenance windows: {described}.{next_one}\n"
        'Run then, or now with --outside-window "why it cannot wait" (kept in the run '
        f"history). Rollbacks are never refused. {DOCS}"
    )
