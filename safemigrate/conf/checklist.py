"""The review checklist: the seed's four sections, or a project's own list from settings.

Items are identified by a slug of their text, so a tick survives reordering the list, and an
item the tool can answer (duration, locks, rollback, backup...) carries the key of that answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.text import slugify

from safemigrate.exceptions import ConfigurationError

#: The checklist of the seed document, section by section: (item, what the runbook answers).
DEFAULT_CHECKLIST: dict[str, list[str]] = {
    "Planning": [
        "Document current schema state",
        "Define migration requirements",
        "Identify affected tables and data",
        "Plan for data backups",
        "Estimate migration duration",
        "Consider impact on running application",
        "Plan rollback strategy",
    ],
    "Development": [
        "Write migration (up)",
        "Write rollback (down)",
        "Test on development database",
        "Verify data integrity",
        "Check application compatibility",
        "Document breaking changes",
        "Review with team",
    ],
    "Testing": [
        "Test migration on copy of production data",
        "Test rollback procedure",
        "Verify application still works",
        "Check query performance",
        "Test edge cases",
        "Load test if changing structure",
        "Verify data consistency",
    ],
    "Deployment": [
        "Backup production database",
        "Schedule maintenance window (if needed)",
        "Run migration in staging first",
        "Monitor migration progress",
        "Verify migration success",
        "Deploy application changes",
        "Monitor application health",
    ],
}

#: Items the runbook answers from what it knows, by item id; the value names the answer.
ANSWERED: dict[str, str] = {
    "document-current-schema-state": "schema_state",
    "identify-affected-tables-and-data": "tables",
    "plan-for-data-backups": "backup",
    "estimate-migration-duration": "duration",
    "consider-impact-on-running-application": "locks",
    "plan-rollback-strategy": "rollback",
    "write-migration-up": "operations",
    "write-rollback-down": "reversibility",
    "document-breaking-changes": "breaking",
    "verify-data-integrity": "postconditions",
    "verify-data-consistency": "postconditions",
    "verify-migration-success": "postconditions",
    "backup-production-database": "backup",
    "schedule-maintenance-window-if-needed": "locks",
    "monitor-migration-progress": "history",
}


@dataclass(frozen=True)
class ChecklistItem:
    """One item: its stable id, its section, its text, and the runbook answer it gets, if any."""

    id: str
    section: str
    text: str
    answer: str | None = None


def item_id(text: str) -> str:
    """Return the stable id of an item: the slug of its text (what ticks are stored under)."""
    return slugify(text)[:100]


def parse_checklist(raw: object, name: str = "SAFEMIGRATE['CHECKLIST']") -> list[ChecklistItem]:
    """Validate ``{section: [item text, ...]}`` and return its items in order."""
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigurationError(
            f"{name} must be a non-empty dict of section to a list of item texts, "
            "e.g. {'Planning': ['Estimate migration duration']}."
        )
    items: list[ChecklistItem] = []
    for section, texts in raw.items():
        if not isinstance(texts, list | tuple) or not all(
            isinstance(text, str) and item_id(text) for text in texts
        ):
            raise ConfigurationError(f"{name}[{section!r}] must be a list of non-empty strings.")
        for text in texts:
            items.append(
                ChecklistItem(item_id(text), str(section), text, ANSWERED.get(item_id(text)))
            )
    ids = [item.id for item in items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigurationError(f"{name} has items with the same id (slug): {duplicates}.")
    return items
