from django.db import migrations, models

from safemigrate.operations import AddIndexToPartitionedTable


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0011_remove_from_database")]

    operations = [
        AddIndexToPartitionedTable(
            "reading", models.Index(fields=["value"], name="Readings Value Idx")
        ),
    ]
