"""The maintenance windows gate: risky migrations run inside a window, or with a reason.

A forward migration is risky when the analysis gives it an error-level finding (acknowledged
or not: an acknowledgement says the risk is accepted, a window is where it is taken), or a
*long lock*: a statement that holds a lock stopping writes while it rewrites or scans a
table, for an estimated ``MAINTENANCE_LONG_LOCK`` or more, or for a time nobody can
estimate. Outside every window, such a plan is refused (exit code 4) unless the run gives
``--outside-window REASON``, which the run history keeps. Rollbacks are never refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from safemigrate.analysis.estimate import estimate_seconds
from safemigrate.analysis.lint import analyse_before_run
from safemigrate.analysis.report import AnalysisReport, OperationReport
from safemigrate.analysis.rules import Severity
from safemigrate.conf import conf
from safemigrate.conf.windows import Window
from safemigrate.exceptions import AnalysisFailed, ConfigurationError, OutsideMaintenanceWindow

DOCS = "See docs/command.md#maintenance-windows."


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

    ``report`` is the analysis the run already made, if any. The reason is returned only
    when it was needed (the run is outside every window), so the history records it then.
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
        return analyse_before_run(connection, options)
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
        reasons = [why for op in migration.operations for why in _operation_risks(op, long_lock_s)]
        if reasons:
            found.append(Risk(migration.label, "; ".join(dict.fromkeys(reasons))))
    return found


def _operation_risks(op: OperationReport, long_lock_s: float) -> list[str]:
    reasons = [
        f"error-level finding {finding.rule_id} ({finding.message})"
        for finding in op.findings
        if finding.severity == Severity.ERROR
    ]
    for statement in op.statements:
        held = {table for table, mode in statement.locks.items() if mode.blocks_writes}
        # An empty table (one this plan creates) is rewritten or scanned in no time.
        busy = {
            table
            for table in held & {*statement.rewrites, *statement.scans}
            if (stats := op.stats.get(table)) is None or stats.bytes != 0
        }
        if not busy:
            continue
        seconds = estimate_seconds([statement], op.stats.get)
        if seconds is None or seconds >= long_lock_s:
            how_long = _how_long(seconds)
            for table in sorted(busy):
                mode = statement.locks[table].name.replace("_", " ")
                reasons.append(f"{mode} lock on {table} for {how_long} (operation #{op.index})")
    return reasons


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
