"""Seed type 4, change column type, expand: a bigint ``total_cents`` next to the decimal total.

``ALTER COLUMN ... TYPE`` rewrites the table under ACCESS EXCLUSIVE; a new column, filled in
batches, does not. Deploy code that writes both columns with this migration.
"""

from django.db import migrations, models
from django.db.models import F

import safemigrate.operations

BATCH = 1000


def to_cents(apps, schema_editor):
    order = apps.get_model("shop", "Order")
    while ids := list(
        order.objects.filter(total_cents__isnull=True).values_list("id", flat=True)[:BATCH]
    ):
        order.objects.filter(id__in=ids).update(total_cents=F("total") * 100)


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
        migrations.RunPython(
            to_cents,
            migrations.RunPython.noop,
            elidable=True,
            # It fills only rows still NULL: safe to rerun (--doctor may finish it).
            hints={"idempotent": True},
        ),
    ]
