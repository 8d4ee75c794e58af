from django.db import migrations, models

from safemigrate.operations import AlterDbDefault


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0006_add_field")]

    operations = [
        AlterDbDefault(
            "legacyorder", "total", models.IntegerField(null=True, db_default=0, db_column="Total")
        ),
    ]
