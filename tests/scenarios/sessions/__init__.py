"""Migrations that change their session's settings, each recording the timeouts it started under.

Each migration records before it changes anything: what the next one records shows whether the
guard set its timeouts again after the change.
"""

from django.db import migrations

RECORD = (
    "INSERT INTO scenarioapp_probe (source, lock_timeout, statement_timeout) "
    "SELECT %s, current_setting('lock_timeout'), current_setting('statement_timeout')"
)


def record(source: str) -> migrations.RunSQL:
    """Record the timeouts this point of the migration runs under, as ``source``."""
    return migrations.RunSQL([(RECORD, [source])], migrations.RunSQL.noop)
