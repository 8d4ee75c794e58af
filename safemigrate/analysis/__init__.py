"""Judge a migration plan before it runs: SQL, locks, size, rewrites, findings.

A pipeline of pure functions that writes nothing: ``plan`` picks the migrations, ``collect``
renders each operation's SQL (``introspection`` answering the schema editor's catalog
questions as the plan will have left the database), ``sqlfacts`` reads what each statement
does, ``operation_facts`` what only the operation shows, ``engine`` looks the facts up in
``rules/`` (the catalogue, as data) and ``context`` sets their severity with what ``probes``
read live. The result (``report``) is the one judged plan: ``lint.judge`` returns it to
``--lint``, the check before a run, the gate and the runbook. ``formats`` prints a report,
``trace`` and ``tracedb`` check the catalogue against PostgreSQL on a throwaway database.

May import: ``postgres/`` and the app's face. Never the guard, the reviews or the admin.
"""
