"""The approval gate: refuse to apply migrations that nobody with the permission approved.

It runs before the run lock is taken or anything is applied. Only forward migrations are
gated: a rollback must never wait for a review. safemigrate's own migrations are exempt,
because they create the tables approvals are stored in; and so is a database without those
tables (a first install), where nobody could have approved anything, nor log in to do so.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.backends.base.base import BaseDatabaseWrapper
from django.urls import NoReverseMatch, reverse

from safemigrate.exceptions import ApprovalRequired
from safemigrate.models import Review
from safemigrate.postgres.tables import relation_exists
from safemigrate.review.inspection import fingerprint, inspect_plan
from safemigrate.review.plan import PlanStep, pending_plan
from safemigrate.review.reviews import approval_state

FALLBACK_URL = "/admin/safemigrate/review/pending/"


def pending_url() -> str:
    """Return the admin page where pending migrations are reviewed and approved."""
    try:
        return reverse("admin:safemigrate_review_pending")
    except NoReverseMatch:
        return FALLBACK_URL


def check_gate(
    connection: BaseDatabaseWrapper,
    mode: str,
    app_label: str | None = None,
    migration_name: str | None = None,
) -> str:
    """Raise ``ApprovalRequired`` naming every gated migration that is not approved.

    Return a notice to show when the gate could not apply (a first install), else ``""``.
    """
    with connection.cursor() as cursor:
        if not relation_exists(cursor, Review._meta.db_table):
            return (
                "safemigrate: the approval gate is on, but this database has no review table "
                "yet (a first install): nothing could have been approved, so nothing is gated."
            )
    executor, steps = pending_plan(connection, app_label, migration_name)
    gated = [s for s in steps if not s.backwards and s.migration.app_label != "safemigrate"]
    if mode == "errors" and gated:
        info = inspect_plan(connection, executor, gated, app_label, migration_name)
        errors = {m.step.key for m in info.migrations if m.has_errors}
        gated = [s for s in gated if s.key in errors]
    refused = _unapproved(connection, gated)
    if refused:
        lines = "\n".join(f"  {label}: {state}" for label, state in refused)
        raise ApprovalRequired(
            f"safemigrate refused to run: REQUIRE_APPROVAL is {mode!r} and these migrations "
            f"are not approved:\n{lines}\nReview and approve them in the admin at "
            f"{pending_url()} (needs the safemigrate.approve permission), then run again."
        )
    return ""


def _unapproved(
    connection: BaseDatabaseWrapper, steps: Sequence[PlanStep]
) -> list[tuple[str, str]]:
    if not steps:
        return []
    reviews = {
        (review.app_label, review.name): review
        for review in Review.objects.using(connection.alias).filter(
            app_label__in={s.key[0] for s in steps}, name__in={s.key[1] for s in steps}
        )
    }
    refused = []
    for step in steps:
        state = approval_state(reviews.get(step.key), fingerprint(step.migration))
        if state != "approved":
            refused.append((step.label, state))
    return refused
