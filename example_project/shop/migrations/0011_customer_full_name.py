"""Seed type 3, rename column, expand: add ``full_name`` and Backfill it from ``name``.

Deploy code that writes both columns with (or before) this migration.
"""

from django.db import migrations, models
from django.db.models import F, Q

import safemigrate.operations


def every_customer_has_a_full_name(apps, schema_editor):
    """Every customer has a full_name"""
    customers = apps.get_model("shop", "Customer").objects.using(schema_editor.connection.alias)
    return not customers.filter(full_name__isnull=True).exists()


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("shop", "0010_shipment"),
    ]

    operations = [
        safemigrate.operations.AddFieldSafely(
            model_name="customer",
            name="full_name",
            field=models.CharField(max_length=200, null=True),
        ),
        # Batches with checkpoints; the code deployed with this migration writes both columns.
        safemigrate.operations.Backfill(
            model_name="customer",
            values={"full_name": F("name")},
            filter=Q(full_name__isnull=True),
            reverse_values={},
        ),
        # Before 0012 makes it NOT NULL: a customer the backfill missed fails here, not there.
        safemigrate.operations.VerifyPython(every_customer_has_a_full_name),
    ]
