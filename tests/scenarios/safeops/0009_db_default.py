from django.db import migrations, models

from safemigrate.operations import AlterDbDefault


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0008_static_default")]

    operations = [
        AlterDbDefault(
            "item", "status", models.CharField(db_default="new", default="new", max_length=10)
        ),
    ]
