"""A migration that sets its own limits with the ``safemigrate`` attribute."""

from django.db import migrations

RECORD = (
    "INSERT INTO scenarioapp_probe (source, lock_timeout, statement_timeout) "
    "SELECT %s, current_setting('lock_timeout'), current_setting('statement_timeout')"
)


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_record_settings")]
    safemigrate = {"lock_timeout": "1234ms", "statement_timeout": "42s"}

    operations = [
        migrations.RunSQL([(RECORD, ["attribute"])], migrations.RunSQL.noop),
    ]
