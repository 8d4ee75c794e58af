from django.db import migrations

from tests.scenarios.sessions import record


def reconnect(apps, schema_editor):
    """Close the connection: Django opens a new session, without the run's settings."""
    schema_editor.connection.close()


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0004_set_config")]

    operations = [
        record("non-atomic, after set_config"),
        migrations.RunPython(reconnect, migrations.RunPython.noop),
    ]
