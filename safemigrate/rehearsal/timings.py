"""Store what a rehearsal measured with each migration's review, for the runbook to read.

The timings belong to the migration's fingerprint: once the migration is edited they no
longer describe it, and the runbook falls back to its estimate.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from safemigrate.models import Review
from safemigrate.postgres.tables import relation_exists
from safemigrate.rehearsal.report import Rehearsal


def store(connection: BaseDatabaseWrapper, rehearsal: Rehearsal) -> list[str]:
    """Write the measured timings into the reviews of the migrations the apply ran.

    Return the migrations whose review now holds them; none when this database has no
    review table yet (safemigrate's own migrations are pending).
    """
    apply = rehearsal.phase("apply")
    if apply is None or not apply.ok:
        return []
    try:
        with connection.cursor() as cursor:
            if not relation_exists(cursor, Review._meta.db_table):
                return []
        for label in apply.applied():
            _store_one(connection.alias, label, _measured(rehearsal, label))
    except DatabaseError as error:
        rehearsal.notes.append(f"The timings could not be stored with the reviews: {error}")
        return []
    return apply.applied()


def _measured(rehearsal: Rehearsal, label: str) -> dict[str, Any]:
    apply = rehearsal.phase("apply")
    rollback = rehearsal.phase("rollback")
    assert apply is not None
    return {
        "fingerprint": apply.fingerprints.get(label, ""),
        "rehearsed_at": timezone.now().isoformat(timespec="seconds"),
        "copy": rehearsal.method,
        "sampled": bool(rehearsal.sampled),
        "passed": rehearsal.passed,
        "duration_ms": _duration(apply, label),
        "rollback_ms": _duration(rollback, label) if rollback is not None else None,
        "operations": [op for op in rehearsal.operations() if op["migration"] == label],
    }


def _duration(phase: Any, label: str) -> int | None:
    for migration in (phase.summary or {}).get("migrations", []):
        if f"{migration['app_label']}.{migration['name']}" == label:
            return migration["duration_ms"]  # type: ignore[no-any-return]
    return None


def _store_one(alias: str, label: str, measured: dict[str, Any]) -> None:
    app_label, name = label.split(".", 1)
    review, _ = Review.objects.using(alias).get_or_create(app_label=app_label, name=name)
    review.rehearsal = measured
    review.save(using=alias, update_fields=["rehearsal", "updated_at"])
