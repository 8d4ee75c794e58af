from django.db import migrations, models

from safemigrate.operations import RemoveFieldFromDatabase


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0010_remove_from_state")]

    operations = [
        RemoveFieldFromDatabase("remote", "memo", models.TextField(default="", db_column="Me mo")),
    ]
