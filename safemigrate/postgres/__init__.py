"""What every part asks PostgreSQL: catalog and activity probes, lock modes, SQL read with pglast.

The bottom of the package, so the guard, the analysis, the operations, the backfills and the
reviews can all stand on it.

- ``locks``: PostgreSQL's table lock modes and which of them conflict.
- ``statements``: a SQL statement read with pglast: which relations it locks, in which mode.
- ``sessions``: other sessions: blockers, long transactions, session settings, replication.
- ``tables``: a table's name as a relation, its size, rows and write rate.
- ``catalog``: what a half-done safe operation left: INVALID indexes, NOT VALID constraints.

May import: nothing of safemigrate's outside ``postgres/``.
"""
