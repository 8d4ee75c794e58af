import django.db.models.deletion
from django.db import migrations, models

from safemigrate.operations import AddFieldSafely


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0005_not_null")]

    operations = [
        AddFieldSafely(
            "item",
            "author",
            models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                to="scenarioapp.author",
            ),
        ),
    ]
