"""The way back: a backup before a run, and the rollback of a run.

``backup`` takes a ``pg_dump`` of what a run is about to change, under the run lock and
before anything is applied; ``files`` keeps the backup folder (whole files only, retention);
``tables`` reads which tables a plan touches from the analysis. ``reversal`` works out what
undoing a run means (which migrations, in which order) and why it may not be possible;
``rollback`` unapplies them under the guard, as a run of its own.

May import: ``guard/`` (a rollback is a guarded run; a backup is recorded in its history),
``analysis/`` (the tables a plan touches), ``backfill/`` (a rolled-back backfill runs under
the run's guard), ``postgres/`` and the app's face. The guard never imports it.
"""

#: What ``--rollback`` without a run id means: the latest successful run still applied. Here,
#: not in ``rollback``, so that the command's options can name it without importing the
#: rollback (and its parts) on every run.
LATEST = "last"
