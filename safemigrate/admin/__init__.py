"""safemigrate in the Django admin: the run ledger, the reviews, the backfills.

Django's admin autodiscovery imports this package; importing each module registers its
pages. ``runs`` shows the history read-only with ``timeline``'s drawing, ``reviews`` the
pending plan with its runbook and the review of each migration, ``backfills`` their progress
and control; ``readonly`` is the mixin for records people only read, ``pages`` what every
custom page hands its template.

May import: ``review/`` and ``backfill/`` (the actions the pages offer), ``postgres/`` and the
app's face. Nothing imports the admin.
"""

from __future__ import annotations

from safemigrate.admin import backfills, reviews, runs

__all__ = ["backfills", "reviews", "runs"]
