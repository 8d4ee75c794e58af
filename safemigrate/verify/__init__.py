"""Postconditions: checks a migration declares, run right after the work they check.

``operation`` holds what the check operations (``safemigrate.operations.Verify`` and
``VerifyPython``) share: they change no schema; they run their check inside the migration,
so under the guard's timeouts and, in an atomic migration, in its transaction; they record
what they found in the run in progress; and a check that does not hold fails the migration.
``results`` is what one check found, ``evaluate`` runs a query or a function and judges it,
``runner`` runs a migration's checks on their own (for the rehearsal).

May import: ``guard/`` (results go into the log of the run in progress), ``postgres/`` and
the app's face. Never ``operations/``: the check operations subclass what is here.
"""

from __future__ import annotations

from safemigrate.verify.results import CheckResult
from safemigrate.verify.runner import run_postconditions

__all__ = ["CheckResult", "run_postconditions"]
