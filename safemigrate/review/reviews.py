"""Reviews: tick checklist items, keep notes, approve. The only history people write.

Approving needs the ``safemigrate.approve`` permission and records the migration's
fingerprint (a hash of its source, ``fingerprint()``), so an approval covers exactly the
migration that was reviewed.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.utils import timezone

from safemigrate.conf.checklist import ChecklistItem
from safemigrate.models import Review, ReviewTick
from safemigrate.postgres.tables import relation_exists

APPROVE_PERMISSION = "safemigrate.approve"


def fingerprint(migration: Migration) -> str:
    """Return a hash of the migration's source, so an edit after approval is noticed."""
    module = sys.modules.get(type(migration).__module__)
    path = getattr(module, "__file__", None)
    if path and Path(path).is_file():
        source = Path(path).read_bytes()
    else:  # a migration built in code: its serialised form stands for its source
        from django.db.migrations.writer import MigrationWriter

        source = MigrationWriter(migration, include_header=False).as_string().encode()
    return hashlib.sha256(source).hexdigest()


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


def rehearsed(
    connection: BaseDatabaseWrapper, fingerprints: Mapping[tuple[str, str], str]
) -> dict[tuple[str, str], tuple[int, str]]:
    """Return, per migration, the duration its latest rehearsal measured and when.

    Only a rehearsal of exactly this migration counts (its ``fingerprints``): an edited
    migration is no longer what was measured. Without a review table (a first install),
    nothing was rehearsed here.
    """
    with connection.cursor() as cursor:
        if not relation_exists(cursor, Review._meta.db_table):
            return {}
    found = {}
    for review in Review.objects.using(connection.alias).filter(
        app_label__in={app_label for app_label, _ in fingerprints},
        name__in={name for _, name in fingerprints},
    ):
        key = (review.app_label, review.name)
        measured = review.rehearsal or {}
        if (
            key in fingerprints
            and measured.get("fingerprint") == fingerprints[key]
            and measured.get("duration_ms") is not None
        ):
            found[key] = (int(measured["duration_ms"]), str(measured.get("rehearsed_at", "")))
    return found
