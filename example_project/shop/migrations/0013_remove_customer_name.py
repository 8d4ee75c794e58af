"""Seed type 2, remove column: the second step, once no running code knows ``name``."""

from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0012_customer_full_name_contract"),
    ]

    operations = [
        safemigrate.operations.RemoveFieldFromDatabase(
            model_name="customer",
            name="name",
            field=models.CharField(max_length=200),
        ),
    ]
