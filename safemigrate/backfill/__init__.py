"""The backfill engine: fill columns of large tables in short, resumable, throttled batches.

``runner`` finds a backfill and runs it (inline, or on task workers through ``tasks``),
``batches`` runs key-range batches with a checkpoint each, ``throttle`` holds it back while
the database is strained, ``progress`` shows it, ``listing`` prints ``--backfills``.

May import: ``guard/`` (a backfill inside a run uses the run's guard), ``postgres/`` and the
app's face. Never ``operations/``: the backfill operations call the engine, not the other way.
"""
