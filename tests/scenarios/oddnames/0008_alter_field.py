from django.db import migrations, models

from safemigrate.operations import AlterFieldSafely


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0007_db_default")]

    operations = [
        AlterFieldSafely(
            "legacyorder",
            "ref",
            models.CharField(max_length=20, null=True, unique=True, db_column="Ref No"),
        ),
        AlterFieldSafely(
            "odd", "name", models.CharField(max_length=50, db_index=True, db_column="Na me; x")
        ),
    ]
