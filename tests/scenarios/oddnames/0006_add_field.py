import django.db.models.deletion
from django.contrib.postgres.functions import RandomUUID
from django.db import migrations, models

from safemigrate.operations import AddFieldSafely


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0005_not_null")]

    operations = [
        AddFieldSafely(
            "odd",
            "owner",
            models.ForeignKey(
                "scenarioapp.legacyorder",
                django.db.models.deletion.CASCADE,
                null=True,
                db_column="Owner Id",
            ),
        ),
        AddFieldSafely(
            "odd", "token", models.UUIDField(db_default=RandomUUID(), db_column="To ken")
        ),
        AddFieldSafely(
            "remote",
            "code",
            models.CharField(max_length=10, null=True, unique=True, db_column="Co de"),
        ),
    ]
