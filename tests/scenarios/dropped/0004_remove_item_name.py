"""Drops ``name``: unapplying puts it back empty, and unapplying 0003 would make it NOT NULL."""

from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0003_item_name_contract")]

    operations = [
        safemigrate.operations.RemoveFieldFromDatabase(
            model_name="item", name="name", field=models.CharField(max_length=100)
        ),
    ]
