"""The way back: a backup before a run, and the rollback of a run.

``backup`` takes a ``pg_dump`` of what a run is about to change, under the run lock and
before anything is applied; ``files`` keeps the backup folder (whole files only, retention);
``tables`` reads which tables a plan touches from the analysis. ``reversal`` works out what
undoing a run means (which migrations, in which order) and why it may not be possible;
``rollback`` unapplies them under the guard, as a run of its own.

``backup_wanted()`` is here, not in ``backup``: every run asks it, and only a run that takes
a backup needs the backup's parts (``pg_dump``, its files).

May import: ``guard/`` (a rollback is a guarded run; a backup is recorded in its history),
``analysis/`` (the tables a plan touches), ``backfill/`` (a rolled-back backfill runs under
the run's guard), ``postgres/`` and the app's face. The guard never imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from safemigrate.conf import conf

#: What ``--rollback`` without a run id means: the latest successful run still applied. Here,
#: not in ``rollback``, so that the command's options can name it without importing the
#: rollback (and its parts) on every run.
LATEST = "last"


def backup_wanted(options: Mapping[str, Any]) -> bool:
    """Whether this run takes a backup: ``--backup``, or ``BACKUP`` unless ``--no-backup``
    (a ``--fake`` run changes no table: it takes none)."""
    if options.get("no_backup") or options.get("fake"):
        return False
    return bool(options.get("backup")) or conf.backup
