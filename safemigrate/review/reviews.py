"""Reviews: tick checklist items, keep notes, approve. The only history people write.

Approving needs the ``safemigrate.approve`` permission and records the migration's
fingerprint, so an approval covers exactly the migration that was reviewed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from safemigrate.conf.checklist import ChecklistItem
from safemigrate.models import Review, ReviewTick

APPROVE_PERMISSION = "safemigrate.approve"


def review_for(app_label: str, name: str) -> Review:
    """Return the review of a migration, creating it on first use."""
    review, _ = Review.objects.get_or_create(app_label=app_label, name=name)
    return review


def set_ticks(review: Review, items: Iterable[ChecklistItem], ticked: set[str], user: Any) -> None:
    """Make exactly ``ticked`` (item ids) ticked; existing ticks keep their author and time."""
    known = {item.id: item for item in items}
    with transaction.atomic():
        review.ticks.exclude(item__in=ticked & known.keys()).delete()
        existing = set(review.ticks.values_list("item", flat=True))
        ReviewTick.objects.bulk_create(
            ReviewTick(
                review=review,
                item=item_id,
                text=known[item_id].text[:500],
                ticked_by=user,
                ticked_at=timezone.now(),
            )
            for item_id in sorted((ticked & known.keys()) - existing)
        )


def approve(review: Review, user: Any, fingerprint: str) -> None:
    """Approve the review for the migration whose source has this fingerprint."""
    if not user.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied("Approving a migration needs the safemigrate.approve permission.")
    review.approved_by = user
    review.approved_at = timezone.now()
    review.approved_fingerprint = fingerprint
    review.save(update_fields=["approved_by", "approved_at", "approved_fingerprint", "updated_at"])


def revoke(review: Review, user: Any) -> None:
    """Withdraw an approval (same permission as granting one)."""
    if not user.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied("Revoking an approval needs the safemigrate.approve permission.")
    review.approved_by = None
    review.approved_at = None
    review.approved_fingerprint = ""
    review.save(update_fields=["approved_by", "approved_at", "approved_fingerprint", "updated_at"])


def approval_state(review: Review | None, fingerprint: str) -> str:
    """Return ``approved``, ``not reviewed``, ``not approved`` or ``changed since approval``."""
    if review is None:
        return "not reviewed"
    if review.approved_at is None:
        return "not approved"
    if review.approved_fingerprint != fingerprint:
        return "changed since approval"
    return "approved"


def measured(review: Review | None, fingerprint: str) -> tuple[int, str] | None:
    """Return the duration the latest rehearsal measured and when, if it rehearsed exactly
    this migration (``fingerprint``); an edited migration is no longer what was measured."""
    found = review.rehearsal if review is not None else {}
    if not found or found.get("fingerprint") != fingerprint or found.get("duration_ms") is None:
        return None
    return int(found["duration_ms"]), str(found.get("rehearsed_at", ""))
