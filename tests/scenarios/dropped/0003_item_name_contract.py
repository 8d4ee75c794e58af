"""The contract half of removing ``name``: out of the state, nullable in the table."""

from django.db import migrations

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0002_remove_item_code")]

    operations = [safemigrate.operations.RemoveFieldFromState(model_name="item", name="name")]
