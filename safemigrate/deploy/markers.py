"""The deploy markers of other tools, read so their users switch without editing old migrations.

django-safemigrate marks a migration ``safe = Safe.before_deploy()`` (``Safe.after_deploy()``,
``Safe.always()``; before its 5.0 the same names without the call, members of an ``Enum``).
The marker is read by its shape, so safemigrate does not need the package to understand it.
"""

from __future__ import annotations

from enum import Enum

from django.db.migrations import Migration

from safemigrate.declarations import Phase

#: django-safemigrate's ``When`` names, and the phase each means here. ``always`` can run
#: before the deploy, so it goes with the pre-deploy migrations.
DJANGO_SAFEMIGRATE_WHEN: dict[str, Phase] = {
    "before_deploy": Phase.PRE_DEPLOY,
    "always": Phase.PRE_DEPLOY,
    "after_deploy": Phase.POST_DEPLOY,
}


def django_safemigrate_marker(migration: Migration) -> tuple[Phase, str] | None:
    """Return the phase of a django-safemigrate ``safe = Safe...`` marker, and how it reads."""
    name = _when(getattr(migration, "safe", None))
    if name not in DJANGO_SAFEMIGRATE_WHEN:
        return None
    return DJANGO_SAFEMIGRATE_WHEN[name], f"django-safemigrate marker safe = Safe.{name}"


def _when(marker: object) -> str | None:
    """Return ``before_deploy``, ``after_deploy`` or ``always`` from any of the marker's forms."""
    qualname = str(getattr(marker, "__qualname__", ""))
    if callable(marker) and qualname.startswith("Safe."):
        return qualname.removeprefix("Safe.")  # Safe.before_deploy, not called (5.0+ takes it)
    when = getattr(marker, "when", marker)  # Safe.before_deploy(): a Safe holding a When
    if isinstance(when, Enum) and type(marker).__name__ in ("Safe", "When"):
        return str(when.value)  # Safe.before_deploy() (5.0+) or Safe.before_deploy (< 5.0)
    return None
