from django.db import migrations

from safemigrate.operations import DetachPartitionConcurrently


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0002_index")]

    operations = [
        DetachPartitionConcurrently(
            "scenarioapp_reading",
            "scenarioapp_reading_2024",
            bound="FROM ('2024-01-01') TO ('2025-01-01')",
        ),
    ]
