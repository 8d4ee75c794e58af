from django.db import migrations, models

from safemigrate.operations import AddIndexToPartitionedTable


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        AddIndexToPartitionedTable(
            "reading", models.Index(fields=["value"], name="reading_value_idx")
        ),
    ]
