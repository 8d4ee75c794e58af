"""The checks before a run: the approval gate, the analysis, the maintenance windows.

They run before the run lock is taken or anything is applied. What this run applies of the
plan is judged once (``this_run``) and all read it: the gate refuses what nobody approved, the
analysis what is unsafe, the windows what is risky at this hour (``window``). Only forward
migrations are gated: a rollback must never wait for a review. safemigrate's own migrations
are exempt, because they create the tables approvals are stored in; and so is a database
without those tables (a first install), where nobody could have approved anything, nor log
in to do so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.urls import NoReverseMatch, reverse

from safemigrate.analysis.lint import refuse_unsafe, selection_from
from safemigrate.analysis.plan import PlanItem, build_plan
from safemigrate.analysis.report import AnalysisReport
from safemigrate.conf import conf
from safemigrate.exceptions import ApprovalRequired
from safemigrate.models import Review
from safemigrate.postgres.tables import relation_exists
from safemigrate.review.reviews import approval_state, fingerprint
from safemigrate.review.this_run import analyse_this_run, items_this_run
from safemigrate.review.window import enforce_window

FALLBACK_URL = "/admin/safemigrate/review/pending/"

FIRST_INSTALL = (
    "safemigrate: the approval gate is on, but this database has no review table yet (a "
    "first install): nothing could have been approved, so nothing is gated."
)


def pending_url() -> str:
    """Return the admin page where pending migrations are reviewed and approved."""
    try:
        return reverse("admin:safemigrate_review_pending")
    except NoReverseMatch:
        return FALLBACK_URL


@dataclass(frozen=True)
class BeforeRun:
    """What the checks leave the run: a notice to show, the judged plan, the window override."""

    notice: str = ""
    #: The plan, when one was judged, for the rest of the run to read.
    report: AnalysisReport | None = None
    #: ``--outside-window``'s reason, when the run is outside every maintenance window.
    outside_window: str = ""


def check_before_run(connection: BaseDatabaseWrapper, options: Mapping[str, Any]) -> BeforeRun:
    """Refuse the run if the gate, the analysis or the windows say so.

    Nothing is checked for ``--fake``. ``--allow-unsafe`` skips the analysis's refusal, not
    the gate (which, in ``"errors"`` mode, still reads the analysis's findings) nor the
    windows (which judge the plan themselves when they need to).
    """
    if options.get("fake"):
        return BeforeRun()
    mode = options.get("require_approval") or conf.require_approval
    notices = []
    if mode and not _has_review_table(connection):
        mode, notices = "", [FIRST_INSTALL]
    refuse = not options.get("allow_unsafe")
    report = analyse_this_run(connection, options) if refuse or mode == "errors" else None
    if mode:
        items = report.items if report else _plan_items(connection, options)
        check_gate(connection, mode, items, report)
    if report is not None:
        notices.append(report.warning)
        if refuse:
            refuse_unsafe(report)
    outside_window = enforce_window(connection, options, report)
    notice = "\n".join(notice for notice in notices if notice)
    return BeforeRun(notice, report, outside_window)


def _plan_items(connection: BaseDatabaseWrapper, options: Mapping[str, Any]) -> list[PlanItem]:
    executor, items = build_plan(connection, selection_from(options))
    return items_this_run(items, executor.loader, options)


def check_gate(
    connection: BaseDatabaseWrapper,
    mode: str,
    items: Sequence[PlanItem],
    report: AnalysisReport | None = None,
) -> None:
    """Raise ``ApprovalRequired`` naming every gated migration that is not approved.

    In ``"errors"`` mode only migrations the judged ``report`` finds errors in are gated.
    """
    gated = [i for i in items if not i.backwards and i.migration.app_label != "safemigrate"]
    if mode == "errors":
        judged = report.migrations if report else []
        errors = {(m.app_label, m.name) for m in judged if m.blocking}
        gated = [item for item in gated if item.key in errors]
    refused = _unapproved(connection, gated)
    if refused:
        lines = "\n".join(f"  {label}: {state}" for label, state in refused)
        raise ApprovalRequired(
            f"safemigrate refused to run: REQUIRE_APPROVAL is {mode!r} and these migrations "
            f"are not approved:\n{lines}\nReview and approve them in the admin at "
            f"{pending_url()} (needs the safemigrate.approve permission), then run again."
        )


def _has_review_table(connection: BaseDatabaseWrapper) -> bool:
    with connection.cursor() as cursor:
        return relation_exists(cursor, Review._meta.db_table)


def _unapproved(
    connection: BaseDatabaseWrapper, items: Sequence[PlanItem]
) -> list[tuple[str, str]]:
    if not items:
        return []
    reviews = {
        (review.app_label, review.name): review
        for review in Review.objects.using(connection.alias).filter(
            app_label__in={i.key[0] for i in items}, name__in={i.key[1] for i in items}
        )
    }
    refused = []
    for item in items:
        state = approval_state(reviews.get(item.key), fingerprint(item.migration))
        if state != "approved":
            refused.append((item.label, state))
    return refused
