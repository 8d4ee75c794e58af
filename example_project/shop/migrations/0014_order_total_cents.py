"""Seed type 4, change column type, expand: a bigint ``total_cents`` next to the decimal total.

``ALTER COLUMN ... TYPE`` rewrites the table under ACCESS EXCLUSIVE; a new column, filled in
batches, does not. Deploy code that writes both columns with this migration.
"""

from django.db import migrations, models
from django.db.models import F, Q
from django.db.models.functions import Cast

import safemigrate.operations


def every_total_is_copied(apps, schema_editor):
    """The copy (total_cents) has as many values as the original (total)"""
    orders = apps.get_model("shop", "Order").objects.using(schema_editor.connection.alias)
    copied, total = orders.filter(total_cents__isnull=False).count(), orders.count()
    assert copied == total, f"{copied} of {total} orders have total_cents"
    return True


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("shop", "0013_remove_customer_name"),
    ]

    operations = [
        safemigrate.operations.AddFieldSafely(
            model_name="order",
            name="total_cents",
            field=models.BigIntegerField(null=True),
        ),
        # Batches with checkpoints; the code deployed with this migration writes both columns.
        safemigrate.operations.Backfill(
            model_name="order",
            values={"total_cents": Cast(F("total") * 100, models.BigIntegerField())},
            filter=Q(total_cents__isnull=True),
            reverse_values={},
        ),
        safemigrate.operations.VerifyPython(every_total_is_copied),
    ]
