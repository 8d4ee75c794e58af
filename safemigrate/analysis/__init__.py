"""Judge a migration plan before it runs: SQL, locks, size, rewrites, findings.

``engine.analyse_plan`` is the entry point; the modules below it are pure functions of the
plan, the SQL Django would run and (when a database is reachable) the tables' statistics.
"""
