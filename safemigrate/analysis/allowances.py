"""The one escape hatch: findings a migration accepts, each with its reason.

A migration writes ``safemigrate = {"allow": {"SM109": "the table holds 40 rows"}}``; the
analysis then reports those findings as acknowledged instead of refusing the run.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db.migrations import Migration

from safemigrate.analysis.rules import RULES
from safemigrate.declarations import migration_attribute
from safemigrate.exceptions import ConfigurationError


def migration_allowances(migration: Migration) -> dict[str, str]:
    """Read ``safemigrate = {"allow": {"SM109": "reason"}}``: findings the migration accepts.

    This is safemigrate's one escape hatch, and it needs a reason so that a reviewer (and
    ``grep -rn '"allow"'``) can see why each unsafe operation was accepted.
    """
    raw, where = migration_attribute(migration)
    allow = raw.get("allow") or {}
    example = "{'SM109': 'the table holds 40 rows'}"
    if not isinstance(allow, Mapping):
        raise ConfigurationError(f"{where}['allow'] must be a dict such as {example}.")
    for rule_id, reason in allow.items():
        if rule_id not in RULES:
            raise ConfigurationError(
                f"{where}['allow'] names unknown rule {rule_id!r}; rules are SM101 to "
                f"{max(RULES)} (see docs/rules/index.md)."
            )
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigurationError(
                f"{where}['allow'][{rule_id!r}] needs a reason, e.g. {example}."
            )
    return {str(rule_id): str(reason) for rule_id, reason in allow.items()}
