"""Judge a migration plan before it runs: SQL, locks, size, rewrites, findings.

A pipeline of pure functions that writes nothing: ``plan`` picks the migrations, ``collect``
renders each operation's SQL, ``sqlfacts`` reads what each statement does, ``engine`` looks
the facts up in ``rules/`` (the catalogue, as data) and ``context`` sets their severity.
``lint`` is the command's entry point, ``formats`` prints a report, ``trace`` and
``tracedb`` check the catalogue against PostgreSQL on a throwaway database.

May import: ``postgres/`` and the app's face. Never the guard, the reviews or the admin.
"""
