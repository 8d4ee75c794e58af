"""Seed type 3, rename column, contract: ``full_name`` NOT NULL, ``name`` gone from the code.

Deploy code that reads and writes only ``full_name`` with this migration; ``name`` stays in
the table, nullable, until 0011.
"""

from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("shop", "0011_customer_full_name"),
    ]

    operations = [
        safemigrate.operations.SetNotNull(
            model_name="customer",
            name="full_name",
            field=models.CharField(max_length=200),
        ),
        safemigrate.operations.RemoveFieldFromState(model_name="customer", name="name"),
    ]
