from django.db import migrations

from safemigrate.operations import DetachPartitionConcurrently


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0012_partitions")]

    operations = [
        DetachPartitionConcurrently(
            '"legacy"."Readings"',
            '"legacy"."Readings 2024"',
            bound="FROM ('2024-01-01') TO ('2025-01-01')",
        ),
    ]
