from django.db import migrations

from tests.scenarios.sessions import record


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0002_set")]

    operations = [
        record("non-atomic, after SET"),
        migrations.RunSQL("RESET ALL", migrations.RunSQL.noop),
    ]
