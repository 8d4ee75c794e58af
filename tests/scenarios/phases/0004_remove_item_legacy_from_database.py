from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0003_remove_item_legacy_from_state")]

    operations = [
        safemigrate.operations.RemoveFieldFromDatabase(
            "item", "legacy", models.TextField(null=True)
        )
    ]
