import django.contrib.postgres.functions
from django.db import migrations, models

from safemigrate.operations import AddFieldSafely


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0006_fk")]

    operations = [
        AddFieldSafely(
            "item",
            "token",
            models.UUIDField(db_default=django.contrib.postgres.functions.RandomUUID()),
        ),
    ]
