from django.db import migrations

from tests.scenarios.sessions import record


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        record("atomic"),
        # Plain SET in a transaction that commits stays for the session.
        migrations.RunSQL("SET statement_timeout = 0", migrations.RunSQL.noop),
    ]
