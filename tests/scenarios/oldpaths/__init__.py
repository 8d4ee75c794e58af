"""Migrations as safemigrate 0.x wrote them, kept byte for byte: they must keep loading.

``0002_changes_1.py`` and ``0002_changes.py`` are what ``safemigrate --fix scenarioapp 0002``
wrote (before the operations took their public ``safemigrate.operations`` path) from a
``makemigrations``-style ``0002_changes.py``; ``0003_partitions_backfills.py`` is what Django's
``MigrationWriter`` wrote for the operations ``--fix`` never writes. Between them they import
every module path a user's migration may hold: ``safemigrate.operations.columns``,
``.constraints``, ``.defaults``, ``.fields``, ``.indexes``, ``.tables``, ``.partitions`` and
``.backfill``. Ruff leaves this folder alone (pyproject.toml): do not reformat it.
"""
