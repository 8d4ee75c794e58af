from django.db import migrations, models

from safemigrate.operations import AddUniqueConstraintConcurrently


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0002_index")]

    operations = [
        AddUniqueConstraintConcurrently(
            "item", models.UniqueConstraint(fields=["name"], name="item_name_uniq")
        ),
    ]
