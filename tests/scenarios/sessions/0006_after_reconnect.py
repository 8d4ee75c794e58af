from django.db import migrations

from tests.scenarios.sessions import record


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0005_reconnect")]

    operations = [record("after reconnecting")]
