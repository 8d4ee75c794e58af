from django.db import migrations

import safemigrate.operations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_item_note")]

    operations = [safemigrate.operations.RemoveFieldFromState("item", "legacy")]
