"""Record the timeouts that RunSQL and RunPython statements really run under."""

from django.db import migrations

RECORD = (
    "INSERT INTO scenarioapp_probe (source, lock_timeout, statement_timeout) "
    "SELECT %s, current_setting('lock_timeout'), current_setting('statement_timeout')"
)


def record_from_python(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(RECORD, ["RunPython"])


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.RunSQL([(RECORD, ["RunSQL"])], migrations.RunSQL.noop),
        migrations.RunPython(record_from_python, migrations.RunPython.noop),
    ]
