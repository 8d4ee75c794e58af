"""Seed type 5, add index: built CONCURRENTLY, resuming an INVALID leftover of a failed build."""

from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("shop", "0007_customer_phone"),
    ]

    operations = [
        safemigrate.operations.AddIndexConcurrently(
            model_name="order",
            index=models.Index(fields=["status"], name="order_status_idx"),
        ),
    ]
