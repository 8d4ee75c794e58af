"""Seed type 3, rename column, expand: add ``full_name`` and copy ``name`` into it in batches.

Deploy code that writes both columns with (or before) this migration.
"""

from django.db import migrations, models
from django.db.models import F

import safemigrate.operations

BATCH = 1000


def copy_name(apps, schema_editor):
    """Copy in short transactions (the migration is not atomic), so no row stays locked long."""
    customer = apps.get_model("shop", "Customer")
    while ids := list(
        customer.objects.filter(full_name__isnull=True).values_list("id", flat=True)[:BATCH]
    ):
        customer.objects.filter(id__in=ids).update(full_name=F("name"))


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
        migrations.RunPython(
            copy_name,
            migrations.RunPython.noop,
            elidable=True,
            # It fills only rows still NULL: safe to rerun (--doctor may finish it).
            hints={"idempotent": True},
        ),
    ]
